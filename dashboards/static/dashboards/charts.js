// Draw each dashboard chart from the numbers in its json_script element: the same numbers
// as the table printed beside it. Loaded as a module, so no inline script is needed.
import "../vendor/chartjs/chart.umd.min.js";

const { Chart } = globalThis;
// NHS identity colours: blue, dark pink, green, warm yellow, purple, mid grey.
const COLOURS = ["#005eb8", "#7c2855", "#007f3b", "#ffb81c", "#330072", "#768692"];

function datasets(spec) {
  return spec.series.map((series, index) => {
    const colour = COLOURS[index % COLOURS.length];
    return {
      label: series.label,
      data: series.data,
      borderColor: colour,
      backgroundColor: colour,
      borderWidth: 2,
      pointRadius: 0,
    };
  });
}

export function drawCharts(root = document) {
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || Chart.getChart(canvas)) {
      continue;
    }
    const spec = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } },
      },
    });
    canvas.dataset.drawn = "true";
  }
}

drawCharts();
