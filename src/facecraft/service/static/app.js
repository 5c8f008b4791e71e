// facecraft web page: vanilla JS, no build step. Talks to the REST API under /api.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "facecraft.token";
  const FACECRAFT_TAG = "0xfc5";
  const FINAL = new Set(["done", "failed", "cancelled"]);

  const state = {
    maxUploadBytes: 0,
    source: null, // upload JSON
    target: null, // upload JSON
    sourceBusy: false,
    targetBusy: false,
    faces: "", // "all" | "index:N" | ""
    job: null, // current job JSON
    events: null, // EventSource
    pollTimer: 0,
    rate: null, // {t0, f0} for fps/ETA
    tokenWaiters: null, // promise while the token form is open
  };

  // ------------------------------------------------------------------ auth and requests

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function withToken(url) {
    const t = token();
    if (!t) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(t);
  }

  function authHeaders() {
    const t = token();
    return t ? { Authorization: "Bearer " + t } : {};
  }

  // Show the token form once; every caller that got a 401 waits for the same answer.
  function askToken() {
    if (state.tokenWaiters) return state.tokenWaiters;
    const form = $("auth-form");
    form.hidden = false;
    $("auth-token").focus();
    state.tokenWaiters = new Promise((resolve) => {
      form.addEventListener(
        "submit",
        (event) => {
          event.preventDefault();
          sessionStorage.setItem(TOKEN_KEY, $("auth-token").value.trim());
          form.hidden = true;
          state.tokenWaiters = null;
          resolve();
        },
        { once: true },
      );
    });
    return state.tokenWaiters;
  }

  function detailText(body, status) {
    if (body && typeof body === "object") {
      const detail = body.detail;
      if (typeof detail === "string") return detail;
      if (Array.isArray(detail)) {
        return detail
          .map((item) => {
            const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
            return (where ? where + ": " : "") + (item.msg || JSON.stringify(item));
          })
          .join("; ");
      }
    }
    if (status === 413) return "The file is too large for this server.";
    if (status === 429) return "The server is busy with other jobs. Please try again in a minute.";
    if (status >= 500) return "The server had a problem (" + status + "). Please try again.";
    return "The request failed (" + status + ").";
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await fetch(path, {
        ...options,
        headers: { Accept: "application/json", ...(options.headers || {}), ...authHeaders() },
      });
      if (response.status === 401 && attempt < 2) {
        await askToken();
        continue;
      }
      if (response.status === 204) return null;
      let body = null;
      const text = await response.text();
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (!response.ok) throw new ApiError(detailText(body, response.status), response.status);
      return body;
    }
    throw new ApiError("The access token was not accepted.", 401);
  }

  // POST a FormData with upload progress (fetch cannot report it); retries once after a 401.
  function postWithProgress(path, form, onProgress) {
    const send = () =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", path);
        xhr.setRequestHeader("Accept", "application/json");
        const t = token();
        if (t) xhr.setRequestHeader("Authorization", "Bearer " + t);
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        });
        xhr.addEventListener("load", () => {
          let body = null;
          try {
            body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
          } catch {
            body = null;
          }
          if (xhr.status >= 200 && xhr.status < 300) resolve(body);
          else reject(new ApiError(detailText(body, xhr.status), xhr.status));
        });
        xhr.addEventListener("error", () => reject(new ApiError("The upload failed: no connection to the server.", 0)));
        xhr.send(form);
      });
    return send().catch(async (error) => {
      if (error.status !== 401) throw error;
      await askToken();
      return send();
    });
  }

  // ------------------------------------------------------------------ small helpers

  function showError(message) {
    const banner = $("banner");
    banner.textContent = message;
    banner.hidden = !message;
    if (message) banner.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function setStatus(id, message, kind = "") {
    const element = $(id);
    element.textContent = message;
    element.className = "status" + (kind ? " " + kind : "");
  }

  function setBar(element, fraction) {
    const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    element.firstElementChild.style.width = percent + "%";
    if (element.getAttribute("role") === "progressbar") element.setAttribute("aria-valuenow", String(percent));
  }

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0) + " MB";
  }

  function seconds(value) {
    if (!Number.isFinite(value) || value < 0) return "";
    if (value < 60) return Math.ceil(value) + " s";
    return Math.floor(value / 60) + " min " + Math.round(value % 60) + " s";
  }

  function describeUpload(upload) {
    const parts = [upload.name];
    if (upload.width && upload.height) parts.push(upload.width + "×" + upload.height);
    if (upload.kind === "video" && upload.duration_s) parts.push(upload.duration_s.toFixed(1) + " s");
    parts.push(megabytes(upload.size_bytes));
    return parts.join(" · ");
  }

  function fillSelect(select, values, preferred) {
    select.replaceChildren(...values.map((value) => el("option", { value, text: value })));
    if (preferred && values.includes(preferred)) select.value = preferred;
  }

  // ------------------------------------------------------------------ tabs

  function selectTab(name) {
    for (const tab of ["swap", "verify"]) {
      const selected = tab === name;
      $("tab-" + tab).setAttribute("aria-selected", String(selected));
      $("tab-" + tab).tabIndex = selected ? 0 : -1;
      $("panel-" + tab).hidden = !selected;
    }
    showError("");
  }

  // ------------------------------------------------------------------ drop zones

  function wireDrop(zoneId, inputId, onFile) {
    const zone = $(zoneId);
    const input = $(inputId);
    input.addEventListener("change", () => {
      if (input.files && input.files[0]) onFile(input.files[0]);
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("over");
      });
    }
    for (const type of ["dragleave", "drop"]) {
      zone.addEventListener(type, () => zone.classList.remove("over"));
    }
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) onFile(file);
    });
  }

  function markFilled(zoneId, lead) {
    const zone = $(zoneId);
    zone.classList.add("filled");
    zone.querySelector(".drop-text").replaceChildren(lead, el("u", { text: "choose a file" }));
  }

  function tooLarge(file, statusId) {
    if (state.maxUploadBytes && file.size > state.maxUploadBytes) {
      setStatus(
        statusId,
        "This file is " + megabytes(file.size) + "; the server accepts up to " + megabytes(state.maxUploadBytes) + ".",
        "error",
      );
      return true;
    }
    return false;
  }

  async function uploadFile(file, barId, statusId) {
    const bar = $(barId);
    bar.hidden = false;
    setBar(bar, 0);
    setStatus(statusId, "Uploading " + file.name + "…");
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      return await postWithProgress("/api/uploads", form, (fraction) => setBar(bar, fraction));
    } finally {
      bar.hidden = true;
    }
  }

  async function onSourceFile(file) {
    showError("");
    state.source = null;
    const preview = $("source-preview");
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    markFilled("source-drop", "Drop another photo here or ");
    if (tooLarge(file, "source-status")) return refreshSwapButton();
    state.sourceBusy = true;
    refreshSwapButton();
    try {
      const upload = await uploadFile(file, "source-progress", "source-status");
      if (upload.kind !== "image") {
        setStatus("source-status", "Step 1 needs a photo, not a video. Put the video in step 2.", "error");
        return;
      }
      state.source = upload;
      setStatus("source-status", "Ready: " + describeUpload(upload), "ok");
      checkSourceFace(upload);
    } catch (error) {
      setStatus("source-status", error.message, "error");
    } finally {
      state.sourceBusy = false;
      refreshSwapButton();
    }
  }

  // A friendly early warning when the photo has no face (the job would fail later anyway).
  async function checkSourceFace(upload) {
    try {
      const found = await api("/api/uploads/" + encodeURIComponent(upload.id) + "/faces");
      if (state.source !== upload) return;
      if (!found.faces.length) {
        setStatus("source-status", "No face was found in this photo. Try a clearer, front-facing photo.", "error");
      } else if (found.faces.length > 1) {
        setStatus("source-status", "Ready: " + describeUpload(upload) + " (several faces: the largest is used)", "ok");
      }
    } catch {
      // the job reports it in plain words if it matters
    }
  }

  async function onTargetFile(file) {
    showError("");
    state.target = null;
    state.faces = "";
    $("step-faces").hidden = true;
    $("options-num").textContent = "3";
    const isVideo = file.type.startsWith("video/") || /\.(mp4|mov|m4v|webm|mkv|avi)$/i.test(file.name);
    const video = $("target-preview-video");
    const image = $("target-preview-img");
    const url = URL.createObjectURL(file);
    video.hidden = !isVideo;
    image.hidden = isVideo;
    if (isVideo) {
      video.src = url;
      image.removeAttribute("src");
    } else {
      image.src = url;
      video.removeAttribute("src");
    }
    markFilled("target-drop", "Drop another file here or ");
    if (tooLarge(file, "target-status")) return refreshSwapButton();
    state.targetBusy = true;
    refreshSwapButton();
    try {
      const upload = await uploadFile(file, "target-progress", "target-status");
      state.target = upload;
      setStatus("target-status", "Looking for faces…");
      await loadFaces(upload);
      setStatus("target-status", "Ready: " + describeUpload(upload), "ok");
    } catch (error) {
      setStatus("target-status", error.message, "error");
    } finally {
      state.targetBusy = false;
      refreshSwapButton();
    }
  }

  // ------------------------------------------------------------------ faces

  async function loadFaces(upload) {
    const found = await api("/api/uploads/" + encodeURIComponent(upload.id) + "/faces");
    if (state.target !== upload) return;
    const list = $("faces");
    list.replaceChildren();
    const faces = found.faces || [];
    const area = (face) => {
      const [x0, y0, x1, y1] = face.bbox_xyxy;
      return Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
    };
    for (const face of faces) {
      const button = el(
        "button",
        {
          type: "button",
          className: "face",
          "data-faces": "index:" + face.index,
          "data-testid": "face-" + face.index,
          "aria-pressed": "false",
          "aria-label": "Face " + (face.index + 1),
        },
        [el("img", { src: face.thumbnail, alt: "" }), el("span", { text: "Face " + (face.index + 1) })],
      );
      list.append(button);
    }
    const all = el(
      "button",
      { type: "button", className: "face", "data-faces": "all", "data-testid": "face-all", "aria-pressed": "false" },
      [el("span", { className: "all-icon", text: "All" }), el("span", { text: "All faces" })],
    );
    list.append(all);
    const when = found.frame_time_s ? " at " + found.frame_time_s.toFixed(1) + " s" : "";
    if (faces.length === 0) {
      $("faces-hint").textContent =
        "No face was found in the frame" + when + ". You can still try: every face that appears will be replaced.";
      chooseFaces("all");
    } else {
      $("faces-hint").textContent =
        (faces.length === 1 ? "One face found" : faces.length + " faces found") +
        (upload.kind === "video" ? " in the frame" + (when || " at the start") : "") +
        ". Click the one to replace, or All faces.";
      const largest = faces.reduce((best, face) => (area(face) > area(best) ? face : best), faces[0]);
      chooseFaces("index:" + largest.index);
    }
    $("step-faces").hidden = false;
    $("options-num").textContent = "4";
  }

  function chooseFaces(value) {
    state.faces = value;
    for (const button of $("faces").querySelectorAll(".face")) {
      button.setAttribute("aria-pressed", String(button.dataset.faces === value));
    }
    refreshSwapButton();
  }

  // ------------------------------------------------------------------ swap

  function refreshSwapButton() {
    const running = state.job && !FINAL.has(state.job.status);
    let hint = "";
    if (state.sourceBusy || state.targetBusy) hint = "Uploading…";
    else if (!state.source) hint = "Choose the photo of the person (step 1).";
    else if (!state.target) hint = "Choose the video or photo to change (step 2).";
    else if (!state.faces) hint = "Choose a face.";
    else if (running) hint = "A swap is running.";
    $("swap-button").disabled = Boolean(hint);
    $("swap-hint").textContent = hint || "Ready. The result is marked as AI-generated.";
  }

  function jobForm() {
    const form = new FormData();
    form.append("source_upload_id", state.source.id);
    form.append("target_upload_id", state.target.id);
    form.append("faces", state.faces);
    for (const [field, id] of [["blend", "opt-blend"], ["color", "opt-color"], ["swapper", "opt-swapper"], ["codec", "opt-codec"], ["forehead", "opt-forehead"]]) {
      if ($(id).value) form.append(field, $(id).value);
    }
    for (const [field, id] of [["crf", "opt-crf"], ["start_s", "opt-start"], ["end_s", "opt-end"]]) {
      const value = $(id).value.trim();
      if (value !== "") form.append(field, value);
    }
    form.append("label", $("opt-label-on").checked ? $("opt-label").value.trim() : "");
    form.append("report", $("opt-report").checked ? "true" : "false");
    form.append("keep_lips", $("opt-keep-lips").checked ? "true" : "false");
    form.append("keep_occluders", $("opt-keep-occluders").checked ? "true" : "false");
    form.append("glasses", $("opt-glasses").checked ? "true" : "false");
    form.append("target_glasses", $("opt-target-glasses").checked ? "true" : "false");
    form.append("outline", $("opt-outline").checked ? "true" : "false");
    return form;
  }

  async function startSwap() {
    showError("");
    $("swap-button").disabled = true;
    try {
      const job = await api("/api/jobs", { method: "POST", body: jobForm() });
      $("job-result").hidden = true;
      watchJob(job);
      refreshJobs();
    } catch (error) {
      showError(error.message);
      refreshSwapButton();
    }
  }

  function watchJob(job) {
    stopWatching();
    state.rate = null;
    $("job-progress").hidden = false;
    $("cancel-button").disabled = false;
    showJob(job);
    if (FINAL.has(job.status)) return;
    const source = new EventSource(withToken("/api/jobs/" + encodeURIComponent(job.id) + "/events"));
    state.events = source;
    source.addEventListener("job", (event) => {
      try {
        showJob(JSON.parse(event.data));
      } catch {
        // ignore a malformed event; the next one or the poll fixes it
      }
    });
    source.addEventListener("end", () => {
      source.close();
      state.events = null;
      pollJob(job.id, true);
    });
    source.addEventListener("error", () => {
      // stream lost (network, proxy, auth): fall back to polling
      source.close();
      if (state.events === source) state.events = null;
      schedulePoll(job.id);
    });
  }

  function stopWatching() {
    if (state.events) state.events.close();
    state.events = null;
    clearTimeout(state.pollTimer);
  }

  function schedulePoll(id) {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(() => pollJob(id, false), 1000);
  }

  async function pollJob(id, once) {
    try {
      const job = await api("/api/jobs/" + encodeURIComponent(id));
      if (!state.job || state.job.id !== id) return;
      showJob(job);
      if (!FINAL.has(job.status) && !once) schedulePoll(id);
    } catch (error) {
      if (!once) schedulePoll(id);
      else showError(error.message);
    }
  }

  function progressText(job) {
    const progress = job.progress || {};
    if (job.status === "queued") {
      return job.queue_position ? "Waiting in line (position " + job.queue_position + ")…" : "Waiting to start…";
    }
    const done = progress.frames_done || 0;
    const total = progress.frames_total || 0;
    const now = performance.now();
    if (!state.rate && done > 0) state.rate = { t0: now, f0: done };
    const parts = [total ? "Frame " + done + " of " + total : done ? "Frame " + done : "Starting…"];
    if (state.rate && done > state.rate.f0) {
      const fps = (done - state.rate.f0) / ((now - state.rate.t0) / 1000);
      parts.push(fps.toFixed(1) + " fps");
      if (total > done) parts.push("about " + seconds((total - done) / fps) + " left");
    }
    return parts.join(" · ");
  }

  function showJob(job) {
    const previous = state.job;
    state.job = job;
    const fraction = job.progress && Number.isFinite(job.progress.fraction) ? job.progress.fraction : 0;
    setBar($("job-bar"), job.status === "done" ? 1 : fraction);
    $("job-progress").dataset.status = job.status;
    if (!FINAL.has(job.status)) {
      setStatus("job-status", progressText(job));
    } else {
      $("job-progress").hidden = true;
      stopWatching();
      if (job.status === "done") showResult(job);
      else if (job.status === "failed") showError("The swap failed: " + (job.error || "unknown reason."));
      else if (job.status === "cancelled") showError("The swap was cancelled.");
      if (!previous || previous.status !== job.status) refreshJobs();
    }
    refreshSwapButton();
  }

  async function cancelJob() {
    if (!state.job) return;
    $("cancel-button").disabled = true;
    try {
      await api("/api/jobs/" + encodeURIComponent(state.job.id) + "/cancel", { method: "POST" });
      setStatus("job-status", "Cancelling…");
    } catch (error) {
      showError(error.message);
      $("cancel-button").disabled = false;
    }
  }

  // ------------------------------------------------------------------ result

  function mediaElement(url, isImage, label) {
    if (isImage) return el("img", { src: withToken(url), alt: label });
    return el("video", {
      src: withToken(url),
      controls: "",
      muted: "",
      loop: "",
      playsinline: "",
      preload: "metadata",
      "aria-label": label,
    });
  }

  function isImageJob(job) {
    const name = (job.target_name || "").toLowerCase();
    return /\.(jpe?g|png|webp|bmp|tiff?)$/.test(name);
  }

  function showResult(job) {
    const card = $("job-result");
    const image = isImageJob(job);
    const original = mediaElement(job.target_url || "/api/jobs/" + job.id + "/target", image, "Original");
    const result = mediaElement(job.result_url || "/api/jobs/" + job.id + "/result", image, "Result");
    $("compare-original").replaceChildren(original);
    $("compare-result").replaceChildren(result);
    for (const media of [original, result]) {
      if (media.tagName === "VIDEO") media.muted = true;
    }
    const download = $("download");
    download.href = withToken(job.result_url || "/api/jobs/" + job.id + "/result");
    download.setAttribute("download", resultName(job));
    renderSummary($("summary"), summaryRows(job));
    $("notes").replaceChildren(...(job.notes || []).map((note) => el("li", { text: note })));
    card.hidden = false;
    card.dataset.jobId = job.id;
    card.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function resultName(job) {
    const base = (job.target_name || "result").replace(/\.[^.]+$/, "");
    const ext = isImageJob(job) ? ((job.target_name || "").match(/\.[^.]+$/) || [".png"])[0] : ".mp4";
    return base + "-swapped" + ext;
  }

  function yesNo(value) {
    if (value === null || value === undefined) return null;
    return { text: value ? "yes" : "no", className: value ? "yes" : "no" };
  }

  // Works with the provenance as a verify report ({watermark, c2pa, record}) or as flat fields.
  function provenanceFacts(provenance) {
    const p = provenance || {};
    const watermark = p.watermark && typeof p.watermark === "object" ? p.watermark : null;
    const c2pa = p.c2pa && typeof p.c2pa === "object" ? p.c2pa : null;
    let watermarkFound = watermark ? Boolean(watermark.found) : p.watermark_found;
    if (watermarkFound === undefined && typeof p.watermark === "boolean") watermarkFound = p.watermark;
    let c2paState = c2pa ? c2pa.state : p.c2pa_state;
    if (c2paState === undefined && typeof p.c2pa === "string") c2paState = p.c2pa;
    const c2paValid = c2paState !== undefined ? c2paState === "valid" : p.c2pa_valid;
    const recordId =
      p.record_id || (p.record && p.record.record_id) || (watermark && watermark.payload && watermark.payload.record_id);
    return { watermarkFound, c2paState, c2paValid, recordId };
  }

  function summaryRows(job) {
    const rows = [];
    const timings = job.timings || {};
    const quality = (job.report && (job.report.quality || job.report)) || {};
    if (typeof quality.id_to_source === "number") {
      rows.push(["Identity distance to the photo (lower is closer)", { text: quality.id_to_source.toFixed(2) }]);
    }
    if (typeof quality.face_found === "number") {
      rows.push(["Face swapped in", { text: Math.round(quality.face_found * 100) + "% of frames" }]);
    }
    const facts = provenanceFacts(job.provenance);
    const wm = yesNo(facts.watermarkFound);
    if (wm) rows.push(["Invisible watermark", wm]);
    if (facts.c2paValid !== undefined && facts.c2paValid !== null) {
      const c2pa = yesNo(facts.c2paValid);
      c2pa.text = facts.c2paValid ? "valid" : facts.c2paState || "not valid";
      rows.push(["Content Credentials (C2PA)", c2pa]);
    }
    if (job.options && "label" in job.options) rows.push(["Visible label", { text: job.options.label || "none" }]);
    if (typeof timings.seconds === "number") {
      const fps = typeof timings.fps === "number" ? " · " + timings.fps.toFixed(1) + " fps" : "";
      rows.push(["Time", { text: timings.seconds.toFixed(1) + " s" + fps }]);
    }
    if (facts.recordId) rows.push(["Provenance record", { text: String(facts.recordId) }]);
    return rows;
  }

  function renderSummary(list, rows) {
    list.replaceChildren(
      ...rows.map(([term, value]) =>
        el("div", {}, [el("dt", { text: term }), el("dd", { text: value.text, className: value.className || "" })]),
      ),
    );
  }

  // ------------------------------------------------------------------ recent jobs

  async function refreshJobs() {
    let data;
    try {
      data = await api("/api/jobs");
    } catch {
      return;
    }
    const list = $("jobs");
    const jobs = (data && data.jobs) || [];
    if (!jobs.length) {
      list.replaceChildren(el("li", { className: "hint", text: "No jobs yet." }));
      return;
    }
    list.replaceChildren(...jobs.slice(0, 10).map(jobItem));
  }

  function jobItem(job) {
    const when = job.created_at ? new Date(job.created_at).toLocaleString() : "";
    const names = (job.source_name || "?") + " → " + (job.target_name || "?");
    const item = el("li", { "data-job-id": job.id }, [
      el("span", { className: "badge " + job.status, text: job.status }),
      el("span", { className: "names" }, [el("span", { text: names }), el("br"), el("span", { className: "when", text: when })]),
    ]);
    const open = el("button", { type: "button", className: "link", text: job.status === "done" ? "Show" : "Details" });
    open.addEventListener("click", () => {
      showError("");
      if (FINAL.has(job.status)) {
        stopWatching();
        state.job = job;
        $("job-progress").hidden = true;
        if (job.status === "done") showResult(job);
        else showError("This swap " + (job.status === "failed" ? "failed: " + (job.error || "unknown reason.") : "was cancelled."));
      } else {
        watchJob(job);
      }
    });
    const remove = el("button", { type: "button", className: "link", text: "Delete", "aria-label": "Delete job " + names });
    remove.addEventListener("click", async () => {
      try {
        await api("/api/jobs/" + encodeURIComponent(job.id), { method: "DELETE" });
        if (state.job && state.job.id === job.id) $("job-result").hidden = true;
        refreshJobs();
      } catch (error) {
        showError(error.message);
      }
    });
    item.append(el("span", { className: "row" }, [open, remove]));
    return item;
  }

  // ------------------------------------------------------------------ verify

  function verdictOf(report) {
    if (typeof report.marked === "boolean") return report.marked;
    const watermark = report.watermark || {};
    const payload = watermark.payload || {};
    const ours = Boolean(watermark.found) && String(payload.tag || "").toLowerCase() === FACECRAFT_TAG;
    const c2pa = report.c2pa || {};
    const claims = c2pa.claims || {};
    return ours || (c2pa.state === "valid" && claims.generator === "facecraft");
  }

  async function onVerifyFile(file) {
    showError("");
    $("verify-result").hidden = true;
    if (tooLarge(file, "verify-status")) return;
    const bar = $("verify-progress");
    bar.hidden = false;
    setBar(bar, 0);
    setStatus("verify-status", "Checking " + file.name + "…");
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const report = await postWithProgress("/api/verify", form, (fraction) => setBar(bar, fraction));
      setStatus("verify-status", file.name);
      showVerify(report);
    } catch (error) {
      setStatus("verify-status", error.message, "error");
    } finally {
      bar.hidden = true;
    }
  }

  // "…/compositeWithTrainedAlgorithmicMedia" -> "composite with trained algorithmic media"
  function sourceTypeText(value) {
    const last = String(value).split("/").pop() || "";
    return last.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  }

  function showVerify(report) {
    const marked = verdictOf(report);
    const verdict = $("verify-verdict");
    verdict.textContent = marked
      ? "Marked: made by facecraft, AI-generated"
      : "Not marked: no facecraft watermark and no valid facecraft credentials";
    verdict.className = "verdict " + (marked ? "marked" : "unmarked");
    verdict.dataset.marked = String(marked);
    const watermark = report.watermark || {};
    const c2pa = report.c2pa || {};
    const claims = c2pa.claims || {};
    const rows = [
      ["Invisible watermark", yesNo(Boolean(watermark.found))],
    ];
    if (typeof watermark.bit_accuracy === "number") {
      rows.push(["Watermark bit accuracy", { text: (watermark.bit_accuracy * 100).toFixed(1) + "%" }]);
    }
    if (watermark.payload) {
      const tag = String(watermark.payload.tag || "").toLowerCase();
      rows.push([
        "Watermark payload",
        { text: (tag === FACECRAFT_TAG ? "facecraft" : "unknown tag " + tag) + ", record " + watermark.payload.record_id },
      ]);
    }
    const state = c2pa.state || "absent";
    rows.push([
      "Content Credentials (C2PA)",
      { text: state === "absent" ? "none" : state, className: state === "valid" ? "yes" : state === "absent" ? "" : "no" },
    ]);
    if (claims.generator) {
      rows.push(["Made with", { text: [claims.generator, claims.generator_version].filter(Boolean).join(" ") }]);
    }
    if (claims.digital_source_type) {
      rows.push(["Source type", { text: sourceTypeText(claims.digital_source_type) }]);
    }
    if (report.record && report.record.created_utc) {
      const made = new Date(report.record.created_utc);
      rows.push(["Made on", { text: Number.isNaN(made.getTime()) ? report.record.created_utc : made.toLocaleString() }]);
    }
    renderSummary($("verify-details"), rows);
    $("verify-result").hidden = false;
  }

  // ------------------------------------------------------------------ start

  async function loadOptions() {
    try {
      const options = await api("/api/options");
      state.maxUploadBytes = options.max_upload_bytes || 0;
      const defaults = options.defaults || {};
      fillSelect($("opt-blend"), options.blend || [], defaults.blend);
      fillSelect($("opt-color"), options.color || [], defaults.color);
      fillSelect($("opt-swapper"), options.swappers || [], defaults.swapper);
      fillSelect($("opt-codec"), options.codecs || [], defaults.codec);
    } catch (error) {
      showError("Could not load the options from the server: " + error.message);
    }
  }

  function start() {
    $("tab-swap").addEventListener("click", () => selectTab("swap"));
    $("tab-verify").addEventListener("click", () => selectTab("verify"));
    document.querySelector(".tabs").addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const next = $("tab-swap").getAttribute("aria-selected") === "true" ? "verify" : "swap";
      selectTab(next);
      $("tab-" + next).focus();
    });
    $("faces").addEventListener("click", (event) => {
      const button = event.target.closest(".face");
      if (button) chooseFaces(button.dataset.faces);
    });
    $("opt-label-on").addEventListener("change", () => {
      $("opt-label").disabled = !$("opt-label-on").checked;
    });
    wireDrop("source-drop", "source-input", onSourceFile);
    wireDrop("target-drop", "target-input", onTargetFile);
    wireDrop("verify-drop", "verify-input", onVerifyFile);
    $("swap-button").addEventListener("click", startSwap);
    $("cancel-button").addEventListener("click", cancelJob);
    $("jobs-refresh").addEventListener("click", refreshJobs);
    // Keep the browser from opening a file dropped outside a drop zone.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());
    refreshSwapButton();
    loadOptions().then(refreshJobs);
  }

  start();
})();
