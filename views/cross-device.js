// The computer's side of "sign in with your phone" (served as /assets/cross-device.js):
// the page asks nixa every second whether the phone answered, says what it hears
// in the page's status line, and once the request is settled submits the page's
// own form, so nixa completes the sign-in (or says why not) without a reload by
// hand. Without this script the same form is a button the citizen presses.
(function () {
  'use strict';
  var form = document.querySelector('form[data-cross-device]');
  if (!form || !window.fetch) return;
  var status = form.querySelector('[data-cross-device-status]');
  var interval = Number(form.getAttribute('data-interval')) || 1000;
  var said = 'pending';
  var SAY = {
    claimed: ['Đã quét mã. Hãy chọn số và xác nhận trên điện thoại.', 'The code was scanned. Pick the number and confirm on your phone.'],
    matched: ['Số đúng. Hãy xác nhận bằng vân tay, khuôn mặt hoặc mã PIN trên điện thoại.', 'The number matches. Confirm with fingerprint, face or PIN on your phone.'],
  };
  function say(state) {
    if (state === said || !SAY[state]) return;
    said = state;
    status.textContent = SAY[state][0] + ' ';
    var en = document.createElement('span');
    en.lang = 'en';
    en.textContent = '(' + SAY[state][1] + ')';
    status.appendChild(en);
  }
  function poll() {
    fetch(form.getAttribute('data-status'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : { settled: true }; })
      .then(function (s) {
        if (s.settled) return form.submit();
        say(s.state);
        setTimeout(poll, interval);
      })
      .catch(function () { setTimeout(poll, interval * 3); });
  }
  setTimeout(poll, interval);
})();
