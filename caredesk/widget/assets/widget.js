/*
 * caredesk help widget.
 *
 * One tag on a client's site:
 *   <script src="https://DESK/widget.js" data-site="SITE_KEY" async></script>
 * shows a help button at the bottom right that opens a ticket form.
 *
 * Everything lives in a shadow root on one element, with its own styles, so the
 * host page is neither restyled nor able to restyle the widget; the only global
 * is window.caredeskWidget (open/close, for a page's own "Contact support" link).
 * The desk's address is taken from this script's own src.
 */
(function () {
  "use strict";

  if (window.caredeskWidget) {
    return; // the snippet was pasted twice
  }

  var script =
    document.currentScript ||
    document.querySelector('script[src*="/widget.js"][data-site]');
  if (!script) {
    return;
  }
  var siteKey = script.getAttribute("data-site") || "";
  var buttonLabel = script.getAttribute("data-label") || "Help";
  var deskUrl = new URL(script.src, document.baseURI);
  var base = deskUrl.origin + deskUrl.pathname.replace(/\/widget\.js$/, "");
  var api = base + "/api/v1/widget/" + encodeURIComponent(siteKey);

  var CSS = [
    // !important: the host page's own rules (even "* { ... }") match this
    // element and would otherwise be inherited by everything inside.
    ":host { all: initial !important; }",
    ".cdw { position: fixed; z-index: 2147483000; right: 20px; bottom: 20px;",
    "  font: 16px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;",
    "  color: #1d2433; text-align: left; }",
    ".cdw *, .cdw *::before, .cdw *::after { box-sizing: border-box; }",
    ".launcher { display: inline-flex; align-items: center; gap: .45rem; border: 0;",
    "  border-radius: 999px; padding: .7rem 1.1rem; background: #2456c7; color: #fff;",
    "  font: inherit; font-weight: 600; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(16, 24, 40, .25); }",
    ".launcher:hover { background: #1d48a8; }",
    ".launcher svg { width: 20px; height: 20px; flex: none; }",
    "button:focus-visible, input:focus-visible, textarea:focus-visible, a:focus-visible {",
    "  outline: 3px solid #b54708; outline-offset: 2px; }",
    ".head button:focus-visible { outline-color: #fff; }",
    ".panel { position: absolute; right: 0; bottom: 0; width: 380px;",
    "  max-height: calc(100vh - 40px); overflow: auto; background: #fff;",
    "  border: 1px solid #dfe3ea; border-radius: 12px;",
    "  box-shadow: 0 12px 32px rgba(16, 24, 40, .28); }",
    ".panel[hidden], .launcher[hidden], [hidden] { display: none !important; }",
    ".head { display: flex; align-items: center; justify-content: space-between;",
    "  padding: .8rem 1rem; background: #2456c7; color: #fff;",
    "  border-radius: 11px 11px 0 0; position: sticky; top: 0; }",
    ".head h2 { margin: 0; font-size: 1.05rem; font-weight: 700; color: #fff; }",
    ".close { border: 0; background: transparent; color: #fff; font: inherit;",
    "  font-size: 1.5rem; line-height: 1; width: 2.2rem; height: 2.2rem;",
    "  border-radius: 6px; cursor: pointer; }",
    ".close:hover { background: rgba(255, 255, 255, .15); }",
    ".body { padding: 1rem; }",
    ".intro { margin: 0 0 .8rem; color: #5b6478; font-size: .95rem; }",
    ".field { margin: 0 0 .8rem; }",
    "label { display: block; font-weight: 600; font-size: .92rem; margin: 0 0 .25rem; }",
    ".opt { font-weight: 400; color: #5b6478; }",
    "input, textarea { display: block; width: 100%; margin: 0; padding: .5rem .6rem;",
    "  border: 1px solid #b8c0cc; border-radius: 6px; background: #fff; color: #1d2433;",
    "  font: inherit; font-size: 16px; }",
    "textarea { min-height: 7rem; resize: vertical; }",
    "input[type=file] { padding: .35rem; font-size: .9rem; }",
    "[aria-invalid=true] { border-color: #b42318; }",
    ".err { color: #b42318; font-size: .88rem; margin: .25rem 0 0; }",
    ".hint { color: #5b6478; font-size: .85rem; margin: .25rem 0 0; }",
    ".alert { background: #fef3f2; color: #b42318; border: 1px solid #fecdca;",
    "  border-radius: 6px; padding: .55rem .75rem; margin: 0 0 .8rem; font-size: .95rem; }",
    ".send { width: 100%; border: 0; border-radius: 6px; padding: .7rem; margin-top: .2rem;",
    "  background: #2456c7; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }",
    ".send:disabled { opacity: .6; cursor: progress; }",
    ".trap { position: absolute !important; left: -10000px !important; width: 1px;",
    "  height: 1px; overflow: hidden; }",
    ".done h3 { margin: .2rem 0 .6rem; font-size: 1.15rem; }",
    ".done p { margin: 0 0 .7rem; }",
    ".number { font-size: 1.6rem; font-weight: 700; color: #2456c7; }",
    ".secondary { border: 1px solid #b8c0cc; background: #fff; color: #1d2433;",
    "  border-radius: 6px; padding: .55rem 1rem; font: inherit; cursor: pointer; }",
    "@media (max-width: 480px) {",
    "  .cdw { right: 12px; bottom: 12px; }",
    "  .cdw.open { left: 0; right: 0; top: 0; bottom: 0; }",
    "  .cdw.open .panel { position: fixed; left: 0; right: 0; top: 0; bottom: 0; width: auto;",
    "    max-height: none; border-radius: 0; border: 0; }",
    "  .cdw.open .head { border-radius: 0; }",
    "}",
    "@media (prefers-reduced-motion: no-preference) {",
    "  .panel { animation: cdw-in .14s ease-out; }",
    "  @keyframes cdw-in { from { opacity: 0; transform: translateY(8px); } }",
    "}",
  ].join("\n");

  var ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" ' +
    'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' +
    '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';

  var FIELDS = [
    { name: "name", label: "Your name", type: "text", autocomplete: "name" },
    { name: "email", label: "Your email", type: "email", autocomplete: "email" },
    { name: "subject", label: "Subject", type: "text", autocomplete: "off" },
    { name: "description", label: "How can we help?", type: "textarea" },
    { name: "attachment", label: "Attach a file", type: "file", optional: true },
  ];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attrs[key];
      } else if (attrs[key] !== false && attrs[key] !== null) {
        node.setAttribute(key, attrs[key] === true ? "" : attrs[key]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function adoptStyles(root) {
    // A constructed sheet is not inline style to a page's Content-Security-Policy,
    // so a site with a strict style-src still shows the widget as designed.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (error) {
      root.appendChild(el("style", { text: CSS }));
    }
  }

  function build() {
    var host = el("caredesk-widget", { "data-caredesk": "widget" });
    var root = host.attachShadow({ mode: "open" });
    adoptStyles(root);

    var wrap = el("div", { class: "cdw" });
    var launcher = el("button", {
      type: "button",
      class: "launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
    });
    launcher.innerHTML = ICON;
    launcher.appendChild(el("span", { text: buttonLabel }));

    var title = el("h2", { id: "cdw-title", text: "Contact support" });
    var closeButton = el("button", {
      type: "button",
      class: "close",
      "aria-label": "Close the support form",
      text: "\u00d7",
    });
    var panel = el(
      "div",
      {
        class: "panel",
        role: "dialog",
        "aria-modal": "true",
        "aria-labelledby": "cdw-title",
        hidden: true,
      },
      [el("div", { class: "head" }, [title, closeButton])]
    );
    var body = el("div", { class: "body" });
    panel.appendChild(body);

    var alertBox = el("div", { class: "alert", role: "alert", hidden: true });
    var form = el("form", { novalidate: true });
    form.appendChild(
      el("p", {
        class: "intro",
        text: "Tell us what you need and we will reply by email.",
      })
    );
    form.appendChild(alertBox);
    var inputs = {};
    var errors = {};
    FIELDS.forEach(function (field) {
      var id = "cdw-" + field.name;
      var label = el("label", { for: id, text: field.label });
      if (field.optional) {
        label.appendChild(el("span", { class: "opt", text: " (optional)" }));
      }
      var input =
        field.type === "textarea"
          ? el("textarea", { id: id, name: field.name, required: true, rows: "5" })
          : el("input", {
              id: id,
              name: field.name,
              type: field.type,
              required: !field.optional,
              autocomplete: field.autocomplete || false,
            });
      var error = el("p", { class: "err", id: id + "-error", hidden: true });
      var described = id + "-error";
      var wrapField = el("div", { class: "field" }, [label, input]);
      if (field.type === "file") {
        var hint = el("p", { class: "hint", id: id + "-hint", text: "One file." });
        described += " " + id + "-hint";
        wrapField.appendChild(hint);
        inputs.fileHint = hint;
      }
      input.setAttribute("aria-describedby", described);
      wrapField.appendChild(error);
      form.appendChild(wrapField);
      inputs[field.name] = input;
      errors[field.name] = error;
    });
    // The spam trap: a field people never see or reach; bots fill it in.
    var trap = el("div", { class: "trap", "aria-hidden": "true" }, [
      el("label", { for: "cdw-website", text: "Leave this empty" }),
      el("input", {
        id: "cdw-website",
        name: "website",
        type: "text",
        tabindex: "-1",
        autocomplete: "off",
      }),
    ]);
    form.appendChild(trap);
    var send = el("button", { type: "submit", class: "send", text: "Send request" });
    form.appendChild(send);

    var done = el("div", { class: "done", hidden: true, tabindex: "-1" });
    body.appendChild(form);
    body.appendChild(done);

    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(wrap);

    return {
      host: host,
      root: root,
      wrap: wrap,
      launcher: launcher,
      panel: panel,
      closeButton: closeButton,
      form: form,
      inputs: inputs,
      errors: errors,
      alertBox: alertBox,
      send: send,
      done: done,
    };
  }

  var ui = null;
  var token = "";
  var tokenAt = 0;
  var minFill = 0;
  var maxMb = 0;
  var sending = false;

  function focusables() {
    return Array.prototype.filter.call(
      ui.panel.querySelectorAll("button, input, textarea, [tabindex]"),
      function (node) {
        return (
          !node.disabled &&
          node.getAttribute("tabindex") !== "-1" &&
          node.getClientRects().length > 0
        );
      }
    );
  }

  function showAlert(text) {
    ui.alertBox.textContent = text;
    ui.alertBox.hidden = !text;
  }

  function clearErrors() {
    showAlert("");
    Object.keys(ui.errors).forEach(function (name) {
      ui.errors[name].hidden = true;
      ui.errors[name].textContent = "";
      ui.inputs[name].removeAttribute("aria-invalid");
    });
  }

  function fieldError(name, text) {
    ui.errors[name].textContent = text;
    ui.errors[name].hidden = false;
    ui.inputs[name].setAttribute("aria-invalid", "true");
  }

  function loadForm() {
    token = "";
    return fetch(api + "/form", { credentials: "omit", mode: "cors" })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            throw new Error(data.detail || "unavailable");
          }
          token = data.token;
          tokenAt = Date.now();
          minFill = data.min_fill_seconds || 0;
          maxMb = data.max_attachment_mb;
          ui.inputs.fileHint.textContent = "One file, up to " + maxMb + " MB.";
        });
      })
      .catch(function () {
        // A refused origin's answer is hidden from scripts: say what a visitor can act on.
        showAlert(
          "The support form is not available right now. Please try again later or email us."
        );
      });
  }

  function open() {
    if (!ui) {
      return;
    }
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.wrap.classList.add("open");
    if (!ui.done.hidden) {
      ui.done.focus();
      return;
    }
    loadForm();
    ui.inputs.name.focus();
  }

  function close() {
    if (!ui || ui.panel.hidden) {
      return;
    }
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.wrap.classList.remove("open");
    ui.launcher.focus();
  }

  function validate() {
    var first = null;
    ["name", "email", "subject", "description"].forEach(function (name) {
      var input = ui.inputs[name];
      var message = "";
      if (!input.value.trim()) {
        message = "Please fill this in.";
      } else if (name === "email" && !input.checkValidity()) {
        message = "Please enter an email address like name@example.com.";
      }
      if (message) {
        fieldError(name, message);
        first = first || input;
      }
    });
    var file = ui.inputs.attachment.files[0];
    if (file && maxMb && file.size > maxMb * 1024 * 1024) {
      fieldError("attachment", "The file is larger than " + maxMb + " MB.");
      first = first || ui.inputs.attachment;
    }
    return first;
  }

  function confirm(data) {
    var done = ui.done;
    done.textContent = "";
    done.appendChild(el("h3", { text: "Thank you, we have your request" }));
    done.appendChild(el("p", { text: "Your ticket number is" }));
    done.appendChild(el("p", { class: "number", text: data.reference }));
    var when = data.promise
      ? "You can expect our first response " +
        data.promise +
        (data.timezone ? " (" + data.timezone.replace(/_/g, " ") + " time)" : "") +
        "."
      : "We will reply as soon as we can.";
    done.appendChild(el("p", { class: "when", text: when }));
    done.appendChild(
      el("p", { text: "We have sent a confirmation to " + ui.inputs.email.value.trim() + "." })
    );
    var again = el("button", { type: "button", class: "secondary", text: "Send another request" });
    again.addEventListener("click", function () {
      ui.form.reset();
      done.hidden = true;
      ui.form.hidden = false;
      loadForm();
      ui.inputs.name.focus();
    });
    done.appendChild(again);
    ui.form.hidden = true;
    done.hidden = false;
    done.focus();
  }

  function submit(event) {
    event.preventDefault();
    if (sending) {
      return;
    }
    clearErrors();
    var invalid = validate();
    if (invalid) {
      invalid.focus();
      return;
    }
    sending = true;
    ui.send.disabled = true;
    ui.send.textContent = "Sending\u2026";
    (token ? Promise.resolve() : loadForm())
      .then(function () {
        if (!token) {
          throw new Error("no form");
        }
        // The desk takes a form sent sooner than a person could fill it for a
        // bot's: someone quick (or autofilled) waits the rest of that moment.
        var wait = minFill * 1000 + 300 - (Date.now() - tokenAt);
        return new Promise(function (resolve) {
          setTimeout(resolve, Math.max(0, wait));
        });
      })
      .then(function () {
        var data = new FormData(ui.form);
        if (!ui.inputs.attachment.files.length) {
          data.delete("attachment");
        }
        data.append("token", token);
        data.append("page", location.origin + location.pathname);
        return fetch(api + "/tickets", {
          method: "POST",
          body: data,
          credentials: "omit",
          mode: "cors",
        });
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            handle(response, body);
          });
      })
      .catch(function () {
        if (ui.alertBox.hidden) {
          showAlert(
            "We could not reach the support desk. Please check your connection and try again."
          );
        }
        ui.alertBox.focus();
      })
      .then(function () {
        sending = false;
        ui.send.disabled = false;
        ui.send.textContent = "Send request";
      });
  }

  function handle(response, body) {
    if (response.status === 201) {
      confirm(body);
      return;
    }
    if (response.status === 422 && body.errors) {
      var first = null;
      Object.keys(body.errors).forEach(function (name) {
        var text = body.errors[name].join(" ");
        if (ui.errors[name]) {
          fieldError(name, text);
          first = first || ui.inputs[name];
        } else {
          showAlert(text);
        }
      });
      if (body.errors.token) {
        loadForm(); // a fresh token: the next press of Send goes through
      }
      (first || ui.send).focus();
      return;
    }
    showAlert(body.detail || "Something went wrong. Please try again in a moment.");
  }

  function onKey(event) {
    if (ui.panel.hidden) {
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    // Keep focus inside the open dialog.
    var items = focusables();
    if (!items.length) {
      return;
    }
    var active = ui.root.activeElement;
    var index = items.indexOf(active);
    if (event.shiftKey && (index <= 0)) {
      event.preventDefault();
      items[items.length - 1].focus();
    } else if (!event.shiftKey && (index === items.length - 1 || index === -1)) {
      event.preventDefault();
      items[0].focus();
    }
  }

  function init() {
    if (ui) {
      return;
    }
    ui = build();
    ui.launcher.addEventListener("click", open);
    ui.closeButton.addEventListener("click", close);
    ui.form.addEventListener("submit", submit);
    ui.panel.addEventListener("keydown", onKey);
    ui.alertBox.setAttribute("tabindex", "-1");
    document.body.appendChild(ui.host);
  }

  window.caredeskWidget = Object.freeze({
    open: function () {
      init();
      open();
    },
    close: close,
  });

  if (document.body) {
    init();
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
