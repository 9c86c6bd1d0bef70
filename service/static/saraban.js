/* saraban: the little the pages need beyond HTML. No library, nothing fetched from the
   internet. Every page works without it; with it, the draft editor autosaves, shows the
   letter's problems beside their fields and refreshes the PDF preview as the clerk types. */
"use strict";

(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const thaiDigits = (text) => String(text).replace(/[0-9]/g, (d) => "๐๑๒๓๔๕๖๗๘๙"[d]);

  /* ---- the menu on a narrow screen: folded behind its button ------------------------- */
  const narrow = window.matchMedia("(max-width: 900px)");
  const toggle = document.querySelector(".menu-toggle");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (toggle && menu) {
    const setOpen = (open) => {
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    };
    const bar = toggle.closest(".topbar");
    toggle.hidden = false;
    bar.classList.add("menu-folds");
    toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
    bar.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && narrow.matches) { setOpen(false); toggle.focus(); }
    });
    narrow.addEventListener("change", () => setOpen(false));
  }

  /* ---- filters fold away on a narrow screen, unless one needs correcting ------------- */
  document.querySelectorAll("details[data-fold-narrow]").forEach((details) => {
    const wide = details.open; // as the page was sent for a wide screen
    const fold = () => { details.open = narrow.matches ? details.hasAttribute("data-active") : wide; };
    fold();
    narrow.addEventListener("change", fold);
  });

  /* ---- confirmations ---------------------------------------------------------------- */
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });

  /* ---- upload size check before sending --------------------------------------------- */
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    const message = input.parentElement.querySelector("[data-size-error]");
    input.addEventListener("change", () => {
      const total = Array.from(input.files).reduce((sum, f) => sum + f.size, 0);
      const tooBig = total > Number(input.dataset.maxBytes);
      if (message) message.hidden = !tooBig;
      input.setCustomValidity(tooBig ? message?.textContent || "too large" : "");
    });
  });

  /* ---- a form whose files take a while to read (OCR): sent once, and said so ---------- */
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    const button = form.querySelector("button[type=submit]");
    const note = document.createElement("p");
    note.className = "busy-note";
    note.setAttribute("role", "status");
    form.append(note);
    form.addEventListener("submit", (event) => {
      // after every other listener: one that stops the sending (a field to correct) wins
      setTimeout(() => {
        if (event.defaultPrevented) return;
        if (button) button.disabled = true;
        note.textContent = form.dataset.busy;
      }, 0);
    });
    window.addEventListener("pageshow", () => {  // back to the page: it may be sent again
      if (button) button.disabled = false;
      note.textContent = "";
    });
  });

  /* ---- progress of background jobs -------------------------------------------------- */
  document.querySelectorAll(".job[data-job]").forEach((box) => {
    const bar = box.querySelector("progress");
    const text = box.querySelector(".job-text");
    const poll = async () => {
      let job;
      try {
        const response = await fetch(box.dataset.job, { headers: { Accept: "application/json" } });
        job = await response.json();
      } catch (error) {
        setTimeout(poll, 2000);
        return;
      }
      if (job.ok === false) { text.textContent = job.error; return; }
      if (job.total) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
      const count = job.total ? thaiDigits(`${job.done} / ${job.total}`) : "";
      if (job.state === "running") {
        text.textContent = `${job.title} ${count} ${job.message || ""}`;
        setTimeout(poll, 700);
      } else if (job.state === "failed") {
        text.textContent = `ไม่สำเร็จ: ${job.error}`;
        box.classList.add("failed");
      } else {
        text.textContent = `${job.title} เสร็จแล้ว ${count}`;
        if (Array.isArray(job.result)) {
          const list = document.createElement("ul");
          job.result.forEach((line) => { const li = document.createElement("li"); li.textContent = line; list.append(li); });
          if (!job.result.length) { const li = document.createElement("li"); li.textContent = "ไม่พบปัญหา"; list.append(li); }
          box.after(list);
        }
        if (box.dataset.done) setTimeout(() => { window.location.href = box.dataset.done; }, 600);
      }
    };
    poll();
  });

  /* ---- report forms: rows to add and remove ----------------------------------------- */
  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const table = add.closest("[data-table]");
      const rows = table.querySelector(":scope > [data-rows]");
      const template = table.querySelector(`:scope > template[data-row-template="${add.dataset.depth}"]`);
      const index = rows.children.length;
      const marker = new RegExp(`__${add.dataset.depth}__`, "g");
      const fragment = template.content.cloneNode(true);
      fragment.querySelectorAll("[name], [id], [for], [data-field], [data-table], [data-path]").forEach((el) => {
        for (const attr of ["name", "id", "for", "data-field", "data-table", "data-path"]) {
          if (el.hasAttribute(attr)) el.setAttribute(attr, el.getAttribute(attr).replace(marker, index));
        }
      });
      rows.append(fragment);
      rows.lastElementChild.querySelector("input, textarea, select")?.focus();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) remove.closest(".table-row").remove();
  });

  /* ---- report forms: required fields, said in Thai beside them before sending --------
     A required field counts in a table row only when that row is filled in: a row holding
     nothing but its presets (a committee row's role) is an empty row, which is not sent.
     The server checks the same and says the same if this script does not run. */
  const blank = (value) => value.replace(/[\s\u200b-\u200d\u2060\ufeff]/g, "") === "";
  const typedIn = (el) => !blank(el.value) && el.value !== el.dataset.preset;
  const rowIsEmpty = (row) =>
    !Array.from(row.querySelectorAll("input[name]:not([type=hidden]):not([type=file]), textarea[name], select[name]"))
      .some(typedIn);
  const counts = (el) => {
    const row = el.parentElement.closest(".table-row");
    return !row || !rowIsEmpty(row);
  };

  function requiredProblems(form) {
    form.querySelectorAll("[data-client-error]").forEach((el) => el.remove());
    const found = [];
    const say = (after, message, field) => {
      const note = document.createElement("span");
      note.className = "field-error";
      note.dataset.clientError = "";
      note.textContent = message;
      after.after(note);
      if (field) field.setAttribute("aria-invalid", "true");
      found.push(field || after.parentElement);
    };
    form.querySelectorAll("[data-required]").forEach((field) => {
      if (counts(field) && blank(field.value)) say(field, field.dataset.required, field);
    });
    form.querySelectorAll("[data-min-rows]").forEach((table) => {
      if (!counts(table)) return;
      const rows = table.querySelectorAll(":scope > [data-rows] > .table-row");
      const filled = Array.from(rows).filter((row) => !rowIsEmpty(row)).length;
      if (filled < Number(table.dataset.minRows)) say(table.querySelector(":scope > legend"), table.dataset.minRowsMessage, null);
    });
    return found;
  }

  document.querySelectorAll("form[data-check-required]").forEach((form) => {
    const summary = document.querySelector("[data-required-summary]");
    form.addEventListener("submit", (event) => {
      const problems = requiredProblems(form);
      if (summary) summary.hidden = !problems.length;
      if (!problems.length) return;
      event.preventDefault();
      const first = problems[0];
      (first.matches("input, textarea, select") ? first : first.querySelector("input, textarea, select, button"))?.focus();
    });
    form.addEventListener("input", (event) => {
      const field = event.target.closest(".field");
      if (!field) return;
      field.querySelectorAll("[data-client-error]").forEach((el) => el.remove());
      event.target.removeAttribute("aria-invalid");
    });
  });

  /* ---- the draft editor ------------------------------------------------------------- */
  const form = document.querySelector("form[data-autosave]");
  if (!form) return;
  const frame = document.querySelector(form.dataset.preview);
  const PDF_VIEW = "#view=FitH&navpanes=0";
  const state = document.getElementById("save-state");
  const general = document.getElementById("general-problems");
  const readJson = (id) => { try { return JSON.parse(document.getElementById(id).textContent); } catch (e) { return {}; } };
  const units = readJson("units-data");
  const signers = readJson("signers-data");
  const addresses = readJson("addresses-data");

  function renumber() {
    for (const kind of ["references", "enclosures"]) {
      form.querySelectorAll(`[data-repeat="${kind}"] > .repeat-row`).forEach((row, i) => {
        row.dataset.field = `${kind}.${i}`;
      });
    }
    form.querySelectorAll("[data-blocks] > .block").forEach((block, b) => {
      block.dataset.field = `body.${b}`;
      block.querySelectorAll("[name]").forEach((el) => {
        el.name = el.name.replace(/^body\.(\d+|__B__)\./, `body.${b}.`);
      });
      const text = block.querySelector("textarea[name$='.text']");
      const label = block.querySelector("label.block-label");
      if (text && label) { text.id = `body-${b}-text`; label.htmlFor = text.id; }
      block.querySelectorAll(".items > .item").forEach((item, j) => {
        item.dataset.field = `body.${b}.items.${j}`;
        item.querySelector("textarea")?.setAttribute("aria-label", `ข้อที่ ${j + 1}`);
      });
    });
  }

  function cloneTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  form.addEventListener("click", (event) => {
    const target = event.target;
    let changed = false;
    const add = target.closest("[data-add]");
    if (add) {
      const list = form.querySelector(`[data-repeat="${add.dataset.add}"]`);
      const row = cloneTemplate(`tpl-${add.dataset.add}`);
      list.append(row);
      row.querySelector("input").focus();
      changed = true;
    }
    const remove = target.closest("[data-remove]");
    if (remove) { remove.closest(".repeat-row").remove(); changed = true; }
    const addBlock = target.closest("[data-add-block]");
    if (addBlock) {
      const block = cloneTemplate(`tpl-${addBlock.dataset.addBlock}`);
      form.querySelector("[data-blocks]").append(block);
      if (addBlock.dataset.addBlock === "items") block.querySelector(".items").append(cloneTemplate("tpl-item"));
      renumber();
      block.querySelector("textarea").focus();
      changed = true;
    }
    const addItem = target.closest("[data-add-item]");
    if (addItem) {
      const item = cloneTemplate("tpl-item");
      addItem.closest(".block").querySelector(".items").append(item);
      renumber();
      item.querySelector("textarea").focus();
      changed = true;
    }
    const removeItem = target.closest("[data-remove-item]");
    if (removeItem) { removeItem.closest(".item").remove(); changed = true; }
    const removeBlock = target.closest("[data-remove-block]");
    if (removeBlock) { removeBlock.closest(".block").remove(); changed = true; }
    const move = target.closest("[data-move]");
    if (move) {
      const block = move.closest(".block");
      const sibling = move.dataset.move === "-1" ? block.previousElementSibling : block.nextElementSibling;
      if (sibling) {
        if (move.dataset.move === "-1") sibling.before(block); else sibling.after(block);
        move.focus();
        changed = true;
      }
    }
    if (changed) { renumber(); schedule(); }
  });

  /* parts a kind does not print are hidden from its form */
  const kindSelect = form.querySelector("[data-kind-select]");
  function applyKind() {
    const kind = kindSelect.value;
    form.querySelectorAll("[data-hide-for]").forEach((el) => {
      if (el.dataset.hideFor.split(" ").includes(kind)) el.setAttribute("data-hidden-by-kind", "");
      else el.removeAttribute("data-hidden-by-kind");
    });
  }
  kindSelect.addEventListener("change", applyKind);
  applyKind();

  /* the unit fills what the clerk left empty: sender, contact, footer, signer */
  const setIfEmpty = (name, value) => {
    const el = form.elements.namedItem(name);
    if (el && !el.value.trim() && value) el.value = Array.isArray(value) ? value.join("\n") : value;
  };
  form.querySelector("[data-unit-select]").addEventListener("change", (event) => {
    const unit = units[event.target.value];
    if (!unit) return;
    setIfEmpty("sender.name", unit.name);
    setIfEmpty("sender.address", unit.address);
    setIfEmpty("contact.phone", unit.phone);
    setIfEmpty("contact.fax", unit.fax);
    setIfEmpty("contact.email", unit.email);
    setIfEmpty("footer", unit.footer);
    if (unit.signer) { setIfEmpty("signer.name", unit.signer.name); setIfEmpty("signer.position", unit.signer.position); }
  });
  form.querySelector("[data-signer-select]")?.addEventListener("change", (event) => {
    const signer = signers[Number(event.target.value)];
    if (!signer || event.target.value === "") return;
    form.elements.namedItem("signer.name").value = signer.name;
    form.elements.namedItem("signer.position").value = signer.position.join("\n");
    schedule();
  });
  form.elements.namedItem("addressee").addEventListener("change", (event) => {
    const salutation = addresses[event.target.value];
    const field = form.elements.namedItem("salutation");
    if (salutation && !field.value.trim()) field.value = salutation;
  });

  /* problems and warnings beside the field they concern */
  function place(findings) {
    form.querySelectorAll("ul.findings").forEach((ul) => ul.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    general.replaceChildren();
    const add = (problem, level) => {
      let path = problem.form_field || problem.field;
      let host = null;
      while (path) {
        host = form.querySelector(`[data-field="${CSS.escape(path)}"]`);
        if (host && !host.hasAttribute("data-hidden-by-kind")) break;
        host = null;
        path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
      }
      const target = host || general;
      let list = target.querySelector(":scope > ul.findings");
      if (!list) { list = document.createElement("ul"); list.className = "findings"; target.append(list); }
      const li = document.createElement("li");
      li.className = level;
      li.textContent = (host ? "" : `${problem.label || problem.field}: `) + problem.th;
      li.title = problem.en;
      list.append(li);
      if (level === "error" && host) host.querySelector("input, textarea, select")?.setAttribute("aria-invalid", "true");
    };
    (findings.errors || []).forEach((p) => add(p, "error"));
    (findings.warnings || []).forEach((p) => add(p, "warning"));
  }
  place(readJson("findings"));

  /* autosave, then refresh the preview */
  let timer = null;
  let saving = false;
  let again = false;
  function schedule() {
    clearTimeout(timer);
    state.textContent = "ยังไม่ได้บันทึก…";
    timer = setTimeout(save, 700);
  }
  async function save() {
    if (saving) { again = true; return; }
    saving = true;
    state.textContent = "กำลังบันทึก…";
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
      });
      const data = await response.json();
      if (!response.ok || data.ok === false) {
        state.textContent = `บันทึกไม่สำเร็จ: ${data.error || response.status}`;
      } else {
        const when = new Date(data.saved_at);
        state.textContent = `บันทึกอัตโนมัติแล้ว ${when.toLocaleTimeString("th-TH-u-nu-thai", { hour: "2-digit", minute: "2-digit" })} น.`;
        place(data);
        if (frame && data.preview) frame.src = data.preview + PDF_VIEW;
        form.dispatchEvent(new CustomEvent("saraban:saved", { detail: data }));
      }
    } catch (error) {
      state.textContent = "บันทึกไม่สำเร็จ (เชื่อมต่อเซิร์ฟเวอร์ไม่ได้)";
    } finally {
      saving = false;
      if (again) { again = false; save(); }
    }
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  renumber();
})();
