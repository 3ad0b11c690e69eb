// The national dashboard: polls the console for the charts (SVG drawn by plotters in Rust) and
// the health table, every two seconds. Chinese by default, English a click away.
"use strict";

const WORDS = {
  zh: {
    title: "全国健康码互认概览", verdicts: "每分钟核验量（按结论，近一小时）",
    colours: "每分钟核验量（按健康码颜色，近一小时）", matrix: "核验地区 × 发码地区",
    routes: "转码互认：按线路", health: "适配器与节点状态", h_region: "地区", h_health: "状态",
    h_detail: "说明", not_yet: "复核申诉和反向测试差异：网关尚未提供，暂不显示。",
    other_lang: "English", window: "统计窗口", decisions: "核验总数", registry: "信任登记册版本",
    polled: "更新于", nodes: "节点", partial: "部分结果：以下节点未计入，数字为下限：", gateway_ok: "网关连接正常", gateway_error: "网关无法访问：", waiting: "等待首次数据…",
    health_words: { HEALTHY: "正常", DEGRADED: "降级", DOWN: "中断", OFFLINE: "离线签名（无需连接）" },
    region: { "330000": "浙江", "330100": "杭州", "330110": "余杭", "440000": "广东", "510000": "四川",
      "430000": "湖南", "410000": "河南", "420000": "湖北", "000000": "国家平台" },
  },
  en: {
    title: "National health-code recognition", verdicts: "Decisions per minute by verdict (last hour)",
    colours: "Decisions per minute by colour (last hour)", matrix: "Verifying × issuing region",
    routes: "Worker confirmations by route", health: "Adapter and node health", h_region: "Region",
    h_health: "Health", h_detail: "Detail",
    not_yet: "Appeals and prober mismatches: not provided by the gateway yet.",
    other_lang: "中文", window: "Window", decisions: "Decisions", registry: "Registry version",
    polled: "Updated", nodes: "Nodes", partial: "Partial: these nodes are not counted, the numbers are a lower bound: ", gateway_ok: "Gateway answering", gateway_error: "Gateway unreachable: ",
    waiting: "Waiting for the first summary…",
    health_words: { HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down", OFFLINE: "offline-signed (nothing to reach)" },
    region: {},
  },
};

let lang = new URLSearchParams(location.search).get("lang") || localStorage.getItem("huren-lang") || "zh";
if (!WORDS[lang]) lang = "zh";
let last = null;
const $ = (id) => document.getElementById(id);

function translate() {
  const w = WORDS[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = w.title + " · huren";
  for (const el of document.querySelectorAll("[data-t]")) if (w[el.dataset.t]) el.textContent = w[el.dataset.t];
  $("lang").textContent = w.other_lang;
  if (last) render(last);
}

function render(d) {
  last = d;
  const w = WORDS[lang];
  for (const name of ["verdicts", "colours", "matrix", "routes"]) {
    const el = $("chart-" + name);
    if (d.charts && el.dataset.svg !== d.charts[name]) {
      el.innerHTML = d.charts[name];
      el.dataset.svg = d.charts[name];
    }
  }
  const status = $("status");
  status.replaceChildren();
  const line = d.polled_at
    ? `${w.gateway_ok} · ${w.window} ${d.window_start} – ${d.window_end} · ${w.decisions} ${d.decisions} · ${w.registry} ${d.registry_version} · ${w.polled} ${d.polled_at}`
    : w.waiting;
  status.append(line);
  if (d.nodes && d.nodes.length) status.append(` · ${w.nodes} ${d.nodes.join(", ")}`);
  if (d.partial) {
    const p = document.createElement("span");
    p.className = "error";
    p.id = "partial";
    p.textContent = " " + w.partial +
      (d.missing_nodes || []).map((m) => `${m.node_id} (${m.detail})`).join("; ");
    status.append(p);
  }
  if (d.error) {
    const e = document.createElement("span");
    e.className = "error";
    e.id = "gateway-error";
    e.textContent = " " + w.gateway_error + d.error;
    status.append(e);
  }
  const body = $("health");
  body.replaceChildren();
  for (const h of d.health || []) {
    const tr = document.createElement("tr");
    const name = lang === "zh" ? w.region[h.region] : h.region_en;
    const cells = [name ? `${h.region} ${name}` : h.region, w.health_words[h.health] || h.health, h.detail];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 1) td.className = "health-" + h.health;
      tr.append(td);
    });
    body.append(tr);
  }
}

async function refresh() {
  try {
    const res = await fetch("/api/dashboard", { cache: "no-store" });
    const d = await res.json();
    if (!res.ok) throw new Error(d.error || res.statusText);
    render(d);
  } catch (err) {
    render(Object.assign({}, last || {}, { error: "console: " + (err.message || err) }));
  }
}

$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("huren-lang", lang);
  translate();
});
translate();
refresh();
setInterval(refresh, 2000);
