// 监察看板: draws the embedded dashboard data (#dashboard-data, the API's JSON) with ECharts.
// The tables under each chart hold the same numbers, so nothing is lost without JavaScript.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  function pct(v) { return v === null ? null : Math.round(v * 1000) / 10; }
  var SEVERITY_COLOURS = { yellow: "#e3b341", orange: "#f0883e", red: "#cf222e" };

  ready(function () {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelector(".ind-dashboard").classList.add("js-charts");
    var charts = [];
    function draw(name, option, onClick) {
      var el = document.querySelector('[data-chart="' + name + '"]');
      if (!el) return;
      var chart = window.echarts.init(el);
      chart.setOption(option);
      if (onClick) chart.on("click", onClick);
      charts.push(chart);
    }
    function go(link) { if (link) window.location.href = link; }
    // An empty pie or bar chart says so instead of drawing equal slices of nothing.
    function empty(text) {
      return { graphic: { type: "text", left: "center", top: "middle",
                          style: { text: text, fill: "#57606a", fontSize: 14 } } };
    }
    function orEmpty(option, hasData) {
      return hasData ? option : Object.assign(option, empty("统计期内无数据"));
    }

    var firsts = data.indicators.indicators;
    draw("scores", {
      title: { text: "一级指标得分", left: "center", textStyle: { fontSize: 14 } },
      tooltip: {},
      xAxis: { type: "category", data: firsts.map(function (f) { return f.name; }),
               axisLabel: { interval: 0 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ type: "bar", data: firsts.map(function (f) { return f.score; }),
                 itemStyle: { color: "#b8141f" }, label: { show: true, position: "top" } }]
    });

    var sev = data.warnings.by_severity;
    draw("warnings-severity", orEmpty({
      title: { text: "预警类型", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"],
                 data: sev.filter(function (s) { return s.total > 0; }).map(function (s) {
                   return { name: s.label, value: s.total, link: s.link,
                            itemStyle: { color: SEVERITY_COLOURS[s.severity] } };
                 }) }]
    }, data.warnings.total > 0), function (p) { go(p.data && p.data.link); });

    var deps = data.warnings.by_department;
    draw("warnings-department", orEmpty({
      title: { text: "预警责任部门", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: { left: 8, right: 16, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: deps.map(function (d) { return d.department; }) },
      series: ["yellow", "orange", "red"].map(function (code, i) {
        return { name: sev[i].label, type: "bar", stack: "w",
                 itemStyle: { color: SEVERITY_COLOURS[code] },
                 data: deps.map(function (d) { return { value: d[code], link: d.link }; }) };
      })
    }, deps.length > 0), function (p) { go(p.data && p.data.link); });

    var months = data.trend;
    draw("trend", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      legend: { data: ["按时办结率", "满意率"] },
      xAxis: { type: "category", data: months.map(function (m) { return m.month; }) },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: "按时办结率", type: "line", connectNulls: false,
          data: months.map(function (m) { return pct(m.on_time_rate); }) },
        { name: "满意率", type: "line", connectNulls: false,
          data: months.map(function (m) { return pct(m.satisfaction_rate); }) }
      ]
    }, function () { go(data.cases.links.closed); });

    draw("ratings", orEmpty({
      title: { text: "评价等级分布", left: "center", textStyle: { fontSize: 14 } },
      tooltip: {},
      xAxis: { type: "category", data: data.ratings.levels.map(function (l) { return l.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.ratings.levels.map(function (l) { return l.count; }),
                 itemStyle: { color: "#0b57d0" } }]
    }, data.ratings.total > 0));

    draw("rectifications", orEmpty({
      title: { text: "差评整改状态", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: "60%",
                 data: data.rectifications.by_status.filter(function (r) { return r.count > 0; })
                   .map(function (r) { return { name: r.label, value: r.count, link: r.link }; }) }]
    }, data.rectifications.total > 0), function (p) { go(p.data && p.data.link); });

    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  });
})();
