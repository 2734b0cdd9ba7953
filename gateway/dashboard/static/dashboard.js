// CleverInvo dashboard: the few things a page does in place. Written for this project
// (AGPL-3.0-or-later, as the rest). Every page works without it; no money rule lives
// here: the draft's totals come from the server (/dashboard/invoices/price), priced by
// the same code that prices a saved invoice.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy buttons: data-copy names the element whose text is copied.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.querySelector(".copied");
      var text = source ? source.textContent : "";
      var done = function () {
        if (status) { status.textContent = status.getAttribute("data-copied-text"); }  // in the page's language
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else {
        select(source);
      }
    });
  });

  function select(element) {
    if (!element) { return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // A form is sent once: a second click while the first is on its way (a double click on
  // "Record payment") would record it twice. Back to a page kept in the history: again.
  document.addEventListener("submit", function (event) {
    var sent = event.target;
    if (sent.getAttribute("method") !== "post") { return; }
    if (sent.hasAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    sent.setAttribute("data-sending", "");
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) { form.removeAttribute("data-sending"); });
  });

  // A refused form: its list of problems takes the focus, so it is read out first.
  // A form taken: the page it led to says what happened, and the focus starts there instead
  // of at the top (WCAG 2.4.3), unless a field of the page asked for it (sign in).
  var problems = document.getElementById("problems");
  var notice = document.getElementById("notice");
  if (problems) {
    problems.focus();
  } else if (notice && !document.querySelector("[autofocus]")) {
    notice.focus();
  }

  var form = document.getElementById("invoice-form");
  if (!form) { return; }
  var body = document.getElementById("lines");
  var template = document.getElementById("line-template");
  var fields = ["description", "quantity", "unitPrice", "discountRate", "taxRate"];

  // Each line's ids, labels and remove button follow its position.
  function renumber() {
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-line]"), function (row, index) {
      fields.forEach(function (name) {
        var input = row.querySelector("input[name='" + name + "']");
        var label = row.querySelector("label[data-label-of='" + name + "']");
        var id = "f-lineItems[" + index + "]." + name;
        if (input) { input.id = id; }
        if (label) {
          label.setAttribute("for", id);
          var hidden = label.querySelector(".visually-hidden");
          if (hidden) { hidden.textContent = hidden.textContent.replace(/\d+|N/, String(index + 1)); }
        }
      });
      var remove = row.querySelector("[data-remove-line]");
      if (remove) {
        remove.value = "remove-" + index;
        var hiddenText = remove.querySelector(".visually-hidden");
        if (hiddenText) { hiddenText.textContent = hiddenText.textContent.replace(/\d+|N/, String(index + 1)); }
      }
    });
  }

  document.getElementById("add-line").addEventListener("click", function (event) {
    event.preventDefault();
    var row = template.content.firstElementChild.cloneNode(true);
    body.appendChild(row);
    renumber();
    row.querySelector("input[name='description']").focus();
    schedule();
  });

  body.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-line]");
    if (!button) { return; }
    event.preventDefault();
    var row = button.closest("tr[data-line]");
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber();
    var focus = next ? next.querySelector("input[name='description']") : document.getElementById("add-line");
    focus.focus();
    schedule();
  });

  // Live totals, priced by the server a moment after the typing stops.
  var timer = null;
  var asked = 0;
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(price, 250);
  }
  body.addEventListener("input", schedule);  // the lines and the currency price a draft; nothing else does
  form.querySelector("[data-currency]").addEventListener("change", schedule);

  function lines() {
    return Array.prototype.map.call(body.querySelectorAll("tr[data-line]"), function (row) {
      var line = {};
      fields.forEach(function (name) { line[name] = row.querySelector("input[name='" + name + "']").value; });
      return line;
    });
  }

  function price() {
    var mine = ++asked;
    var request = {currency: form.querySelector("[data-currency]").value, lines: lines()};
    fetch(form.getAttribute("data-price-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": form.getAttribute("data-csrf")},
      body: JSON.stringify(request)
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (mine === asked && answer) { show(answer); }
    }).catch(function () { /* the totals are shown again when the form is saved */ });
  }

  function show(answer) {
    var problem = form.querySelector("[data-price-problem]");
    var rows = body.querySelectorAll("tr[data-line]");
    var filled = Array.prototype.filter.call(rows, function (row) {
      return fields.some(function (name) { return row.querySelector("input[name='" + name + "']").value.trim() !== ""; });
    });
    if (answer.error) {
      problem.textContent = answer.error;
      setTotal("subtotal", "—");
      setTotal("total", "—");
      form.querySelector("[data-discount-row]").hidden = true;
      form.querySelector("[data-net-row]").hidden = true;
      clearTaxes();
      Array.prototype.forEach.call(rows, function (row) { row.querySelector("[data-line-amount]").textContent = ""; });
      return;
    }
    problem.textContent = "";
    Array.prototype.forEach.call(rows, function (row) { row.querySelector("[data-line-amount]").textContent = ""; });
    filled.forEach(function (row, index) {
      if (answer.lines[index]) { row.querySelector("[data-line-amount]").textContent = answer.lines[index].amount; }
    });
    setTotal("subtotal", answer.subtotal);
    setTotal("total", answer.total);
    var discountRow = form.querySelector("[data-discount-row]");
    discountRow.hidden = !answer.discount;
    setTotal("discount", answer.discount || "");
    form.querySelector("[data-net-row]").hidden = !answer.net;
    setTotal("net", answer.net || "");
    clearTaxes();
    var grand = form.querySelector("#totals dl .grand");
    answer.taxes.forEach(function (tax) {
      var row = document.createElement("div");
      row.setAttribute("data-tax", "");
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = tax.label;
      dd.textContent = tax.amount;
      row.appendChild(dt);
      row.appendChild(dd);
      grand.parentNode.insertBefore(row, grand);
    });
  }

  // The taxes are groups of the totals' list itself, before the total (a dl holds only
  // dt/dd groups: no wrapper of their own).
  function clearTaxes() {
    form.querySelectorAll("#totals [data-tax]").forEach(function (row) { row.remove(); });
  }

  function setTotal(name, text) {
    var cell = form.querySelector("[data-total='" + name + "']");
    if (cell) { cell.textContent = text; }
  }
})();
