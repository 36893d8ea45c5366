// The access-code form: the code printed beside the link on an invoice.
// A wrong code is said plainly; after five in a row the server asks to
// wait, and the form says how long.

import { h, announce } from "./dom.js";

export function codeForm(ctx, intro, message = null) {
  const input = h("input", {
    id: "access-code", name: "code", type: "text", autocomplete: "off", autocapitalize: "characters",
    spellcheck: "false", inputmode: "text", maxlength: "16", required: true, "aria-describedby": "code-help code-error",
  });
  const error = h("p", { id: "code-error", class: "form-error", role: "alert" }, message ?? "");
  const form = h("form", { class: "code-form", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const code = input.value.trim();
    if (!code) {
      error.textContent = "Enter the code first.";
      input.focus();
      return;
    }
    form.querySelector("button").disabled = true;
    announce("Checking the code…");
    await ctx.tryCode(code);
  } },
  h("h2", {}, "Access code"),
  h("p", { id: "code-help" }, intro),
  h("label", { for: "access-code" }, "Access code (6 characters, for example K7Q2PX)"),
  h("div", { class: "code-row" }, input, h("button", { type: "submit", class: "button" }, "Open the record")),
  error);
  return form;
}
