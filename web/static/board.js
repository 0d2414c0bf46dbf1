// guarantor's board: ticks the countdowns of the open obligations every
// half minute, from the deadlines the page states. Without it the page
// shows the time that was left when the server wrote it.
(function () {
  'use strict';

  var script = document.getElementById('board-script');
  var T = {};
  try {
    T = JSON.parse((script && script.dataset.i18n) || '{}');
  } catch (e) {
    T = {};
  }
  function t(key, v) {
    var s = T[key] || '';
    return v === undefined ? s : s.replace(/%[ds]/, function () { return String(v); });
  }
  // words says how long until (ms > 0) or since (ms < 0) a deadline, as
  // the server does: the two largest units that are not zero.
  function words(ms) {
    var overdue = ms < 0;
    if (overdue) {
      ms = -ms;
    }
    if (ms < 60000) {
      return t('countdown.now');
    }
    var days = Math.floor(ms / 86400000);
    var hours = Math.floor((ms % 86400000) / 3600000);
    var mins = Math.floor((ms % 3600000) / 60000);
    var parts = [];
    if (days > 0) {
      parts.push(t('countdown.days', days));
    }
    if (hours > 0) {
      parts.push(t('countdown.hours', hours));
    }
    if (mins > 0 && days === 0) {
      parts.push(t('countdown.minutes', mins));
    }
    return t(overdue ? 'countdown.overdue' : 'countdown.left', parts.join(' '));
  }
  function tick() {
    var now = Date.now();
    var els = document.querySelectorAll('.countdown[data-deadline]');
    for (var i = 0; i < els.length; i++) {
      var deadline = Date.parse(els[i].dataset.deadline);
      if (isNaN(deadline)) {
        continue;
      }
      els[i].textContent = words(deadline - now);
      var row = els[i].closest('tr');
      if (row) {
        row.classList.toggle('overdue', deadline < now);
      }
    }
  }
  if (T['countdown.left']) {
    tick();
    window.setInterval(tick, 30000);
  }
})();
