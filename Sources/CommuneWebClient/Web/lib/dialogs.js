// Modal dialogs built from plain data: forms, confirmations and notices, all in one <dialog id="app-dialog">.
// Everything is made with h() and textContent; nothing a member typed is ever parsed as HTML.

import { $, ERROR_TITLES, h, show } from "./ui.js";

let current = null; // {resolve} of the open dialog

function field(f) {
  const id = `dlg-${f.name}`;
  const common = { id, name: f.name, dataset: { field: f.name } };
  let input;
  if (f.type === "select") {
    input = h(
      "select",
      common,
      (f.options || []).map((o) => h("option", { value: o.value, textContent: o.label, selected: o.value === f.value })),
    );
  } else if (f.type === "textarea") {
    input = h("textarea", { ...common, rows: f.rows || 3, value: f.value || "", placeholder: f.placeholder || "", maxLength: f.maxLength || undefined });
  } else if (f.type === "checkbox") {
    input = h("input", { ...common, type: "checkbox", checked: Boolean(f.value) });
    return h(
      "div",
      { className: "dialog-check", dataset: f.showIf ? { showIf: JSON.stringify(f.showIf) } : {} },
      input,
      h("label", { htmlFor: id, textContent: f.label }),
      f.hint ? h("p", { className: "muted small-text", textContent: f.hint }) : null,
    );
  } else {
    input = h("input", {
      ...common,
      type: f.type, // none: a text input
      value: f.value === undefined || f.value === null ? "" : String(f.value),
      placeholder: f.placeholder || "",
      autocomplete: "off",
      maxLength: f.maxLength || undefined,
      min: f.min,
      max: f.max,
    });
  }
  return h(
    "div",
    { className: "dialog-field", dataset: f.showIf ? { showIf: JSON.stringify(f.showIf) } : {} },
    h("label", { htmlFor: id, textContent: f.label }),
    input,
    f.hint ? h("p", { className: "muted small-text", textContent: f.hint }) : null,
  );
}

function values(form, fields) {
  const out = {};
  for (const f of fields) {
    const input = form.querySelector(`[data-field="${f.name}"]`);
    if (!input) continue;
    if (f.type === "checkbox") out[f.name] = input.checked;
    else if (f.type === "number") out[f.name] = input.value === "" ? null : Number(input.value);
    else out[f.name] = input.value;
  }
  return out;
}

/** Shows fields only when another field has one of the listed values: showIf {field: [values]}. */
function applyShowIf(form) {
  for (const wrap of form.querySelectorAll("[data-show-if]")) {
    const rule = JSON.parse(wrap.dataset.showIf);
    const ok = Object.entries(rule).every(([name, allowed]) => {
      const input = form.querySelector(`[data-field="${name}"]`);
      return input && allowed.includes(input.value);
    });
    show(wrap, ok);
  }
}

/**
 * Opens a dialog and resolves with onSubmit's result (or true), or null when cancelled.
 *
 * options: title and lead (text, or a list of texts and nodes such as isolated names), body (nodes), fields [{name, label, type, value, options, hint, maxLength, showIf}],
 * submitText (null: no submit button), cancelText (null: none), danger, onSubmit(values) → result (a throw keeps
 * the dialog open and shows the error in it), className.
 */
export function openDialog({ title, lead = "", body = [], fields = [], submitText = "Save", cancelText = "Cancel", danger = false, onSubmit = null, className = "" }) {
  const dialog = $("app-dialog");
  if (current) {
    const previous = current;
    current = null;
    previous.resolve(null);
  }
  const error = h("p", { className: "form-error dialog-error", attrs: { role: "alert" }, hidden: true });
  const submit = submitText
    ? h("button", { type: "submit", className: `${danger ? "danger-solid" : "primary"} dialog-submit`, textContent: submitText })
    : null;
  const cancel = cancelText ? h("button", { type: "button", className: "dialog-cancel", textContent: cancelText }) : null;
  const form = h(
    "form",
    { className: "dialog-body", noValidate: true },
    h("h2", { className: "dialog-title" }, title),
    lead && lead.length !== 0 ? h("p", { className: "dialog-lead muted" }, lead) : null,
    ...body,
    ...fields.map(field),
    error,
    h("div", { className: "dialog-actions end" }, cancel, submit),
  );
  dialog.className = `dialog ${className}`.trim();
  dialog.replaceChildren(form);
  applyShowIf(form);
  form.addEventListener("change", () => applyShowIf(form));

  return new Promise((resolve) => {
    const me = { resolve };
    current = me;
    const finish = (value) => {
      if (current !== me) return;
      current = null;
      resolve(value);
      if (dialog.open) dialog.close();
    };
    // A close event queued by an earlier dialog may arrive after this one opened in the same element: only a
    // dialog that is really closed counts as cancelled.
    dialog.onclose = () => {
      if (!dialog.open) finish(null);
    };
    dialog.oncancel = () => finish(null);
    if (cancel) cancel.addEventListener("click", () => finish(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!submit || submit.disabled) return;
      show(error, false);
      if (!onSubmit) {
        finish(true);
        return;
      }
      submit.disabled = true;
      try {
        const result = await onSubmit(values(form, fields));
        finish(result === undefined ? true : result);
      } catch (e) {
        const code = (e && e.code) || "error";
        error.dataset.code = code;
        error.replaceChildren(
          h("strong", { textContent: `${ERROR_TITLES[code] || "Error"}: ` }),
          h("span", { className: "dialog-error-message", textContent: (e && e.message) || String(e) }),
        );
        show(error, true);
      } finally {
        submit.disabled = false;
      }
    });
    if (!dialog.open) dialog.showModal();
    const first = form.querySelector("input:not([type=checkbox]), textarea, select") || submit || cancel;
    if (first) first.focus();
  });
}

/** A yes/no question; resolves with the values of its fields (e.g. a checkbox) or null. */
export function confirmDialog({ title, lead, confirmText = "Confirm", danger = true, fields = [], body = [], onSubmit = null }) {
  return openDialog({ title, lead, body, fields, submitText: confirmText, danger, onSubmit: onSubmit || ((v) => v) });
}

/** Closes whatever dialog is open (as cancelled). */
export function closeDialog() {
  const dialog = $("app-dialog");
  if (dialog.open) dialog.close();
}
