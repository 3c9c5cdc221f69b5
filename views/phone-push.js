// Notifications on a bound phone (served as /assets/phone-push.js; the routes are
// src/phone/push-routes.ts, the notification itself views/sw.js). A section
// marked data-push is hidden until this script finds Web Push in the browser
// (on iPhone: once nixa is added to the home screen). Permission is asked only
// when the citizen presses its button, never on load: a browser blocks a site
// that asks unprompted, and the citizen should know why the question comes.
(function () {
  'use strict';
  var section = document.querySelector('[data-push]');
  if (!section || !window.fetch || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return;
  var button = section.querySelector('[data-push-enable]');
  var status = section.querySelector('[data-push-status]');
  if (!button || !status) return;

  var SAY = {
    on: [
      'Đã bật thông báo trên điện thoại này. Khi một dịch vụ cần bạn xác nhận đăng nhập, điện thoại sẽ báo.',
      'Notifications are on for this phone. When a service needs you to approve a sign-in, the phone will tell you.',
    ],
    denied: [
      'Trình duyệt không cho phép thông báo. Hãy cho phép thông báo của nixa trong cài đặt của trình duyệt rồi thử lại. Không có thông báo, bạn vẫn thấy các yêu cầu khi mở nixa.',
      'The browser does not allow notifications. Allow them for nixa in the browser’s settings and try again. Without notifications you still see requests when you open nixa.',
    ],
    'not-bound': [
      'Điện thoại này chưa được liên kết với tài khoản. Hãy tải lại trang.',
      'This phone is not bound to the account. Please reload the page.',
    ],
    network: [
      'Không kết nối được với nixa. Hãy kiểm tra mạng rồi thử lại.',
      'Could not reach nixa. Please check your connection and try again.',
    ],
    other: [
      'Không bật được thông báo trên điện thoại này. Hãy thử lại sau. Bạn vẫn thấy các yêu cầu khi mở nixa.',
      'Notifications could not be turned on for this phone. Please try again later. You still see requests when you open nixa.',
    ],
  };

  function say(key) {
    var m = SAY[key] || SAY.other;
    status.textContent = m[0] + ' ';
    var en = document.createElement('span');
    en.lang = 'en';
    en.textContent = '(' + m[1] + ')';
    status.appendChild(en);
  }

  function failure(name) {
    return Object.assign(new Error(name), { name: name });
  }

  // nixa's pages say Referrer-Policy: no-referrer, under which the Fetch standard
  // has a same-origin POST say "Origin: null" (Chromium sends the origin anyway,
  // others may not); nixa accepts a subscription only with its own Origin.
  var SAME_ORIGIN = { credentials: 'same-origin', referrerPolicy: 'same-origin' };

  function call(method, path, body) {
    var init = Object.assign({ method: method, headers: { Accept: 'application/json' } }, SAME_ORIGIN);
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 403) throw failure('not-bound');
      if (!res.ok) throw failure('other');
      return res.status === 204 ? undefined : res.json();
    });
  }

  /** The key as bytes, as every browser takes it (base64url, RFC 7515 §2). */
  function fromBase64url(text) {
    var b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(b64 + '==='.slice((b64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(buffer, bytes) {
    if (!buffer || buffer.byteLength !== bytes.length) return false;
    var a = new Uint8Array(buffer);
    for (var i = 0; i < a.length; i++) if (a[i] !== bytes[i]) return false;
    return true;
  }

  /** The worker's registration; a worker that never comes (refused by the browser) is a failure, not a wait. */
  function worker() {
    return Promise.race([
      navigator.serviceWorker.ready,
      new Promise(function (resolve, reject) { setTimeout(function () { reject(failure('other')); }, 10000); }),
    ]);
  }

  function subscribe(registration, key) {
    return registration.pushManager.getSubscription().then(function (old) {
      if (old && sameKey(old.options && old.options.applicationServerKey, key)) return old;
      // One made with another key (nixa's changed) cannot be reused: the push service would refuse nixa's messages.
      return (old ? old.unsubscribe() : Promise.resolve()).then(function () {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    });
  }

  section.hidden = false;
  if (Notification.permission === 'granted') {
    worker()
      .then(function (registration) { return registration.pushManager.getSubscription(); })
      .then(function (sub) { if (sub) say('on'); })
      .catch(function () {});
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    Promise.resolve(Notification.requestPermission())
      .then(function (permission) {
        if (permission !== 'granted') throw failure('denied');
        return Promise.all([worker(), call('GET', '/p/push/key')]);
      })
      .then(function (got) { return subscribe(got[0], fromBase64url(got[1].publicKey)); })
      .then(function (sub) { return call('POST', '/p/push/subscription', sub.toJSON()); })
      .then(function () { say('on'); })
      .catch(function (err) {
        var name = err && err.name;
        say(name === 'TypeError' ? 'network' : name === 'NotAllowedError' ? 'denied' : name);
      })
      .then(function () { button.disabled = false; });
  });
})();
