// restic-manager status page. Plain script, no library, served from the jar. The pages read fully without it;
// with it, the live region refreshes itself every few seconds, forms marked data-async post in the background,
// and the fleet table sorts and filters in the browser.
(function () {
  'use strict';
  var REFRESH_MS = 5000;
  var NUMERIC = { worst: 1, state: 1, age: 1, size: 1, snapshots: 1, alerts: 1 };
  // The order a first click sorts in: the worst end first for every column but the name.
  var DESC = { age: 1, size: 1, snapshots: 1, alerts: 1 };
  var sort = null;

  function live() { return document.getElementById('live'); }

  function value(row, key) {
    var v = row.getAttribute('data-' + key) || '';
    return NUMERIC[key] ? Number(v) : v;
  }

  function applyView() {
    var table = document.getElementById('fleet');
    if (!table || !table.tBodies.length) return;
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    if (sort) {
      rows.sort(function (a, b) {
        var x = value(a, sort.key), y = value(b, sort.key);
        var c = x < y ? -1 : x > y ? 1 : 0;
        if (c === 0) c = value(a, 'name') < value(b, 'name') ? -1 : 1;
        return sort.desc ? -c : c;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      tbody.appendChild(frag);
      Array.prototype.forEach.call(table.querySelectorAll('a[data-sort]'), function (a) {
        a.classList.toggle('sorted', a.getAttribute('data-sort') === sort.key);
        a.classList.toggle('desc', a.getAttribute('data-sort') === sort.key && sort.desc);
      });
    }
    var input = document.getElementById('filter');
    var text = input ? input.value.trim().toLowerCase() : '';
    rows.forEach(function (r) {
      r.classList.toggle('hidden', text !== '' && (r.getAttribute('data-search') || '').indexOf(text) < 0);
    });
  }

  function refresh() {
    var el = live();
    if (!el || document.hidden) return;
    var url = new URL(el.getAttribute('data-refresh'), location.href);
    url.searchParams.delete('q'); // the browser filters itself
    fetch(url.toString(), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (res.redirected && new URL(res.url).pathname === '/ui/login') {
          location.assign('/ui/login');
          return null;
        }
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        el.innerHTML = html; // server-rendered, every agent-supplied value escaped
        applyView();
      })
      .catch(function () { /* the next poll tries again */ });
  }

  document.addEventListener('click', function (ev) {
    var a = ev.target.closest ? ev.target.closest('a[data-sort]') : null;
    if (!a) return;
    ev.preventDefault();
    var key = a.getAttribute('data-sort');
    sort = sort && sort.key === key ? { key: key, desc: !sort.desc } : { key: key, desc: !!DESC[key] };
    applyView();
  });

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form.classList.contains('filter')) {
      ev.preventDefault();
      applyView();
      return;
    }
    if (!form.hasAttribute('data-async')) return;
    ev.preventDefault();
    var button = form.querySelector('button');
    if (button) button.disabled = true;
    fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        var said = new DOMParser().parseFromString(html, 'text/html').getElementById('message');
        var mine = document.getElementById('message');
        if (said && mine) mine.textContent = said.textContent;
        if (button) button.disabled = false;
        refresh();
      })
      .catch(function () {
        var mine = document.getElementById('message');
        if (mine) mine.textContent = 'The server did not answer; try again.';
        if (button) button.disabled = false;
      });
  });

  document.addEventListener('DOMContentLoaded', function () {
    var input = document.getElementById('filter');
    if (input) input.addEventListener('input', applyView);
    applyView();
    if (live()) setInterval(refresh, REFRESH_MS);
  });
})();
