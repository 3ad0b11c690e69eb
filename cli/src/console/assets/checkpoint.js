// The checkpoint page: a scanner's typed line or the camera's frames go to the console, which
// reads the QR code and asks the gateway; the answer fills the page. Chinese by default.
"use strict";

const WORDS = {
  zh: {
    title: "健康码核验", waiting: "请出示健康码", scanner: "扫码枪或粘贴健康码", check: "核验",
    camera_start: "打开摄像头", camera_stop: "关闭摄像头", camera_on: "摄像头已打开，请将二维码对准镜头",
    camera_off: "摄像头未打开", camera_error: "无法打开摄像头：",
    manual: "按身份证号查询（无手机人员）", lookup: "查询", id_number: "身份证号", name: "姓名",
    manual_note: "身份证号只发往户籍地区核验；本页不显示，审计日志不记录。",
    PASS: "通行", STOP: "停", other_lang: "English",
    f_colour: "健康码", f_name: "姓名", f_issuing: "发码地区", f_source: "来源", f_reason: "原因",
    f_days: "隔离天数", checking: "核验中…", failed: "无法核验：",
    verdict: { PASS: "通行", HOME_QUARANTINE: "居家隔离", CENTRAL_QUARANTINE: "集中隔离",
      REVIEW: "需人工核验", REJECT: "拒绝（伪造、吊销或格式错误）", NOT_CHECKED: "未能核验" },
    colour: { GREEN: "绿码", YELLOW: "黄码", RED: "红码", PENDING: "待定（灰码）", UNKNOWN: "未知" },
    source: { ONLINE: "发码地区在线查询", OFFLINE_SIGNED: "离线签名校验", CACHED: "在线查询（缓存）",
      DEGRADED: "发码地区无法连接", FORWARDED: "由服务发码地区的节点查询" },
    region: { "330000": "浙江", "330100": "杭州", "330110": "余杭", "440000": "广东", "510000": "四川",
      "430000": "湖南", "410000": "河南", "420000": "湖北", "000000": "国家平台" },
  },
  en: {
    title: "Health code check", waiting: "Show a health code", scanner: "Scanner or pasted code",
    check: "Check", camera_start: "Start camera", camera_stop: "Stop camera",
    camera_on: "Camera on: hold the QR code to the lens", camera_off: "Camera off",
    camera_error: "Cannot open the camera: ",
    manual: "Look up by ID card (people without a phone)", lookup: "Look up", id_number: "ID number",
    name: "Name", manual_note: "The ID number goes only to the household region; this page does not show it and the audit log does not keep it.",
    PASS: "PASS", STOP: "STOP", other_lang: "中文",
    f_colour: "Code", f_name: "Name", f_issuing: "Issued by", f_source: "Source", f_reason: "Reason",
    f_days: "Quarantine days", checking: "Checking…", failed: "Not checked: ",
    verdict: { PASS: "Pass", HOME_QUARANTINE: "Home quarantine", CENTRAL_QUARANTINE: "Central quarantine",
      REVIEW: "A person must look", REJECT: "Rejected (forged, revoked or malformed)",
      NOT_CHECKED: "Not checked" },
    colour: { GREEN: "green", YELLOW: "yellow", RED: "red", PENDING: "pending (grey)", UNKNOWN: "unknown" },
    source: { ONLINE: "asked the issuing region", OFFLINE_SIGNED: "offline signature checked",
      CACHED: "issuing region (cached)", DEGRADED: "issuing region unreachable",
      FORWARDED: "asked by the node serving the issuing region" },
    region: {},
  },
};

// What the camera line says: a key of WORDS (re-said on a language switch) or an error text.
let cameraNote = { key: "camera_off", text: "" };
let lang = new URLSearchParams(location.search).get("lang") || localStorage.getItem("huren-lang") || "zh";
if (!WORDS[lang]) lang = "zh";
let last = null;

const $ = (id) => document.getElementById(id);

function words() { return WORDS[lang]; }

function translate() {
  const w = words();
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = w.title + " · huren";
  for (const el of document.querySelectorAll("[data-t]")) {
    if (el.id === "why" && last) continue;
    const key = el.dataset.t;
    if (w[key]) el.textContent = w[key];
  }
  for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = w[el.dataset.tp];
  $("lang").textContent = w.other_lang;
  $("camera").textContent = stream ? w.camera_stop : w.camera_start;
  noteCamera(cameraNote.key, cameraNote.text);
  if (last) show(last);
}

function region(code, en) {
  if (!code) return "";
  const name = lang === "zh" ? words().region[code] : en;
  return name ? `${code} ${name}` : code;
}

function show(a) {
  last = a;
  const w = words();
  const box = $("answer");
  box.className = "answer " + (a.answer === "PASS" ? "pass" : "stop");
  box.dataset.answer = a.answer;
  box.dataset.verdict = a.verdict;
  $("word").textContent = w[a.answer];
  $("other").textContent = WORDS[lang === "zh" ? "en" : "zh"][a.answer];
  const verdict = w.verdict[a.verdict] || a.verdict;
  $("why").textContent = a.answer === "PASS" ? verdict
    : a.reason ? `${verdict}: ${a.reason.code}` : verdict;
  const facts = [];
  if (a.colour) facts.push([w.f_colour, (w.colour[a.colour] || a.colour) + (a.native_label ? `（${a.native_label}）` : "")]);
  if (a.name) facts.push([w.f_name, a.name]);
  if (a.issuing_region) facts.push([w.f_issuing, region(a.issuing_region, a.issuing_region_en)]);
  if (a.source) facts.push([w.f_source, w.source[a.source] || a.source]);
  if (a.quarantine_days > 0) facts.push([w.f_days, String(a.quarantine_days)]);
  if (a.reason && a.answer !== "PASS") facts.push([w.f_reason, `${a.reason.code}: ${a.reason.message}`]);
  const dl = $("facts");
  dl.replaceChildren();
  for (const [k, v] of facts) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
}

function showFailure(message) {
  show({ answer: "STOP", verdict: "NOT_CHECKED", colour: "UNKNOWN",
    reason: { code: "NOT_CHECKED", message } });
}

async function post(path, body, type) {
  // The header tells the console this is its own page (see cli/src/console/guard.rs).
  const res = await fetch(path, { method: "POST", body,
    headers: { "content-type": type, "x-huren-console": "1" } });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

// A keyboard-wedge scanner types the payload and Enter into the focused field.
$("scan-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("scan");
  const payload = input.value;
  input.value = "";
  if (!payload.trim()) return;
  $("why").textContent = words().checking;
  try { show(await post("/api/scan", payload, "text/plain; charset=utf-8")); }
  catch (err) { showFailure(String(err.message || err)); }
  input.focus();
});

let stream = null;
let busy = false;

function noteCamera(key, text) {
  cameraNote = { key, text: text || "" };
  $("camera-state").textContent = (key ? words()[key] : "") + cameraNote.text;
}

async function startCamera() {
  const w = words();
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (err) {
    noteCamera("camera_error", err.message || err.name);
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  await video.play();
  noteCamera("camera_on");
  $("camera").textContent = w.camera_stop;
}

function stopCamera() {
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  $("video").srcObject = null;
  noteCamera("camera_off");
  $("camera").textContent = words().camera_start;
}

// Several frames a second go to the console, one at a time; it answers {found:false} until a
// QR code is in view, and the same code held up again is not verified twice.
function grabFrame() {
  const video = $("video");
  if (!stream || busy || video.readyState < 2 || !video.videoWidth) return;
  busy = true;
  const canvas = $("frame");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob(async (blob) => {
    try {
      if (blob) {
        const a = await post("/api/frame", blob, "image/png");
        if (a.found) show(a);
      }
    } catch (err) {
      noteCamera("", String(err.message || err));
    } finally {
      busy = false;
    }
  }, "image/png");
}

$("camera").addEventListener("click", () => (stream ? stopCamera() : startCamera()));
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("huren-lang", lang);
  translate();
});
// A person without a phone: the number and name typed from their ID card. The number is
// cleared from the page as soon as it is sent.
$("manual").addEventListener("submit", async (e) => {
  e.preventDefault();
  const id = $("id-number"), name = $("id-name");
  const card = { id_number: id.value.trim(), name: name.value.trim() };
  id.value = "";
  name.value = "";
  if (!card.id_number || !card.name) return;
  $("why").textContent = words().checking;
  try { show(await post("/api/lookup", JSON.stringify(card), "application/json")); }
  catch (err) { showFailure(String(err.message || err)); }
});

setInterval(grabFrame, 250);
translate();
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) startCamera();
else noteCamera("camera_error", "getUserMedia");
