// nixa's passkey buttons (served as /assets/passkeys.js; SimpleWebAuthnBrowser is
// @simplewebauthn/browser, served as /assets/webauthn.js). A section marked
// data-passkey is hidden until this script finds WebAuthn in the browser. Its form
// is submitted as an ordinary form once the authenticator has answered: the page
// fetches a challenge from data-options, hands it to the browser, and puts the
// answer in the form's "response" field.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;
  // A page with two passkey sections (a passkey and a phone on /account) names
  // this script twice: one run only, or each form would ask two challenges.
  if (window.nixaPasskeysReady) return;
  window.nixaPasskeysReady = true;

  var MESSAGES = {
    NotAllowedError: [
      'Bạn đã hủy, hoặc đã hết thời gian chờ khóa truy cập. Hãy thử lại.',
      'You cancelled, or the passkey prompt timed out. Please try again.',
    ],
    InvalidStateError: [
      'Khóa truy cập này đã có trong tài khoản của bạn.',
      'This passkey is already in your account.',
    ],
    network: [
      'Không kết nối được với nixa. Hãy kiểm tra mạng rồi thử lại.',
      'Could not reach nixa. Please check your connection and try again.',
    ],
    other: [
      'Không dùng được khóa truy cập trên thiết bị này. Hãy thử lại hoặc chọn cách khác.',
      'The passkey could not be used on this device. Please try again or choose another way.',
    ],
  };

  function showError(box, key) {
    var m = MESSAGES[key] || MESSAGES.other;
    box.textContent = '';
    var vi = document.createElement('p');
    vi.textContent = m[0];
    var en = document.createElement('p');
    en.lang = 'en';
    en.textContent = m[1];
    box.appendChild(vi);
    box.appendChild(en);
    box.hidden = false;
    box.focus();
  }

  document.querySelectorAll('[data-passkey]').forEach(function (section) {
    var form = section.querySelector('form');
    var box = section.querySelector('[data-passkey-error]');
    var ceremony = section.getAttribute('data-passkey');
    box.tabIndex = -1;
    section.hidden = false;
    form.addEventListener('submit', function (event) {
      if (form.dataset.answered === 'yes') return; // the answer is in: let the form go
      event.preventDefault();
      if (!form.reportValidity()) return;
      var button = form.querySelector('button[type=submit]');
      button.disabled = true;
      box.hidden = true;
      var body = new URLSearchParams({ csrf: form.elements.csrf.value });
      fetch(section.getAttribute('data-options'), { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (res) {
          if (!res.ok) throw Object.assign(new Error('options ' + res.status), { name: 'network' });
          return res.json();
        })
        .then(function (optionsJSON) {
          return ceremony === 'register'
            ? lib.startRegistration({ optionsJSON: optionsJSON })
            : lib.startAuthentication({ optionsJSON: optionsJSON });
        })
        .then(function (answer) {
          form.elements.response.value = JSON.stringify(answer);
          form.dataset.answered = 'yes';
          form.submit();
        })
        .catch(function (err) {
          button.disabled = false;
          showError(box, err && err.name === 'TypeError' ? 'network' : err && err.name);
        });
    });
  });
})();
