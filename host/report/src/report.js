// Draws the report's chart with TradingView Lightweight Charts from the
// data the page embeds (see chart_data.rs): one chart, one pane per row,
// all on one time axis. Every text shown comes from that data and is set
// with textContent, never parsed as HTML. When it has drawn, it records
// how many panes show something in `data-charts-drawn` on the root
// element (`data-charts`: how many there are), which the browser test
// reads.
(function () {
  'use strict';
  var root = document.documentElement;
  var LC = window.LightweightCharts;
  var data = JSON.parse(document.getElementById('stratbox-chart-data').textContent);
  var box = document.getElementById('chart');
  var legend = document.getElementById('chart-legend');
  var tip = document.getElementById('chart-tip');

  function priceFormat(precision) {
    return { type: 'price', precision: precision, minMove: Math.pow(10, -precision) };
  }
  function points(line) {
    var out = new Array(line.t.length);
    for (var i = 0; i < line.t.length; i++) {
      out[i] = { time: line.t[i], value: line.v[i] };
    }
    return out;
  }
  function stamp(t) {
    return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  // Pane heights, top to bottom: price, the strategy's series, equity,
  // drawdown, profit per round trip (when there are round trips).
  var heights = [380];
  data.panes.forEach(function () { heights.push(120); });
  heights.push(200, 120);
  var withProfits = data.profits.t.length > 0;
  if (withProfits) {
    heights.push(130);
  }
  box.style.height = heights.reduce(function (a, b) { return a + b; }, 0) + 32 + 'px';

  var chart = LC.createChart(box, {
    autoSize: true,
    layout: {
      background: { type: 'solid', color: '#ffffff' },
      textColor: '#222222',
      fontSize: 11,
      panes: { separatorColor: '#bbbbbb', enableResize: true }
    },
    grid: { vertLines: { color: '#eeeeee' }, horzLines: { color: '#eeeeee' } },
    rightPriceScale: { borderColor: '#cccccc' },
    timeScale: { borderColor: '#cccccc', timeVisible: true, secondsVisible: false },
    crosshair: { mode: LC.CrosshairMode.Normal }
  });

  var price = data.price;
  var main;
  var volume = null;
  if (price.candles) {
    main = chart.addSeries(LC.CandlestickSeries, {
      upColor: '#26a69a', downColor: '#ef5350', borderVisible: false,
      wickUpColor: '#26a69a', wickDownColor: '#ef5350',
      priceFormat: priceFormat(price.precision), title: data.market
    }, 0);
    var bars = new Array(price.t.length);
    var volumes = new Array(price.t.length);
    for (var i = 0; i < price.t.length; i++) {
      bars[i] = { time: price.t[i], open: price.open[i], high: price.high[i], low: price.low[i], close: price.close[i] };
      volumes[i] = {
        time: price.t[i], value: price.volume[i],
        color: price.close[i] >= price.open[i] ? 'rgba(38,166,154,0.4)' : 'rgba(239,83,80,0.4)'
      };
    }
    main.setData(bars);
    volume = chart.addSeries(LC.HistogramSeries, {
      priceScaleId: 'volume', priceFormat: { type: 'volume' },
      lastValueVisible: false, priceLineVisible: false
    }, 0);
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    volume.setData(volumes);
  } else {
    main = chart.addSeries(LC.LineSeries, {
      color: '#37474f', lineWidth: 1, priceFormat: priceFormat(price.precision), title: data.market
    }, 0);
    main.setData(points({ t: price.t, v: price.close }));
  }
  data.overlays.forEach(function (line) {
    chart.addSeries(LC.LineSeries, {
      color: line.color, lineWidth: 1, title: line.name, priceFormat: priceFormat(line.precision),
      lastValueVisible: false, priceLineVisible: false
    }, 0).setData(points(line));
  });

  // Trades at the price they executed at where known; denials and failed
  // ticks above their bar.
  var styles = {
    buy: { shape: 'arrowUp', color: '#1a7f37', position: 'belowBar', at: 'atPriceTop' },
    sell: { shape: 'arrowDown', color: '#c62828', position: 'aboveBar', at: 'atPriceBottom' },
    other: { shape: 'circle', color: '#1e63d6', position: 'belowBar' },
    unfilled: { shape: 'circle', color: '#9e9e9e', position: 'belowBar' },
    denial: { shape: 'circle', color: '#f57c00', position: 'aboveBar' },
    failure: { shape: 'square', color: '#b71c1c', position: 'aboveBar' }
  };
  LC.createSeriesMarkers(main, data.markers.map(function (m) {
    var style = styles[m.kind];
    var marker = { time: m.t, shape: style.shape, color: style.color, position: style.position };
    if (m.price !== undefined && style.at) {
      marker.position = style.at;
      marker.price = m.price;
    }
    return marker;
  }));

  var pane = 0;
  data.panes.forEach(function (group) {
    pane += 1;
    group.lines.forEach(function (line) {
      chart.addSeries(LC.LineSeries, {
        color: line.color, lineWidth: 2, title: line.name, priceFormat: priceFormat(line.precision)
      }, pane).setData(points(line));
    });
  });

  pane += 1;
  var benchmark = null;
  if (data.benchmark) {
    benchmark = chart.addSeries(LC.LineSeries, {
      color: data.benchmark.color, lineWidth: 1, title: data.benchmark.name,
      priceFormat: priceFormat(data.equity_precision)
    }, pane);
    benchmark.setData(points(data.benchmark));
  }
  var equity = chart.addSeries(LC.LineSeries, {
    color: data.equity.color, lineWidth: 2, title: data.equity.name,
    priceFormat: priceFormat(data.equity_precision)
  }, pane);
  equity.setData(points(data.equity));

  pane += 1;
  if (data.benchmark_drawdown) {
    chart.addSeries(LC.LineSeries, {
      color: data.benchmark_drawdown.color, lineWidth: 1, title: 'buy and hold',
      priceFormat: priceFormat(2), lastValueVisible: false, priceLineVisible: false
    }, pane).setData(points(data.benchmark_drawdown));
  }
  var drawdown = chart.addSeries(LC.AreaSeries, {
    lineColor: data.drawdown.color, lineWidth: 1, invertFilledArea: true,
    topColor: 'rgba(211,47,47,0.35)', bottomColor: 'rgba(211,47,47,0.05)',
    title: data.drawdown.name, priceFormat: priceFormat(2)
  }, pane);
  drawdown.setData(points(data.drawdown));

  var profits = null;
  if (withProfits) {
    pane += 1;
    profits = chart.addSeries(LC.HistogramSeries, {
      title: data.profits.name, priceFormat: priceFormat(data.profit_precision)
    }, pane);
    profits.setData(points(data.profits).map(function (p) {
      p.color = p.value >= 0 ? '#26a69a' : '#ef5350';
      return p;
    }));
  }

  // Relative heights: they hold whatever size the chart is given.
  chart.panes().forEach(function (p, index) {
    if (heights[index]) {
      p.setStretchFactor(heights[index]);
    }
  });
  chart.timeScale().fitContent();

  // Hover: the bar's values in the legend line, its events in a box that
  // follows the crosshair.
  var idle = legend.textContent;
  function value(series, param) {
    var point = series && param.seriesData.get(series);
    return point && point.value !== undefined ? series.priceFormatter().format(point.value) : null;
  }
  chart.subscribeCrosshairMove(function (param) {
    if (param.time === undefined || !param.point) {
      legend.textContent = idle;
      tip.hidden = true;
      return;
    }
    var parts = [stamp(param.time)];
    var bar = param.seriesData.get(main);
    if (bar && bar.open !== undefined) {
      var f = main.priceFormatter();
      parts.push('O ' + f.format(bar.open) + ' H ' + f.format(bar.high) +
        ' L ' + f.format(bar.low) + ' C ' + f.format(bar.close));
    } else if (bar) {
      parts.push(data.market + ' ' + main.priceFormatter().format(bar.value));
    }
    var shown = [
      ['V', value(volume, param)],
      [data.equity.name, value(equity, param)],
      [data.benchmark ? data.benchmark.name : '', value(benchmark, param)],
      ['drawdown', value(drawdown, param)],
      [data.profits.name, value(profits, param)]
    ];
    shown.forEach(function (pair) {
      if (pair[1] !== null) {
        parts.push(pair[0] + ' ' + pair[1]);
      }
    });
    legend.textContent = parts.join('   ');
    var lines = data.events[String(param.time)];
    if (!lines) {
      tip.hidden = true;
      return;
    }
    tip.textContent = '';
    lines.forEach(function (line) {
      var row = document.createElement('div');
      row.textContent = line;
      tip.appendChild(row);
    });
    tip.hidden = false;
    var x = param.point.x + 24;
    if (x + tip.offsetWidth > box.clientWidth) {
      x = Math.max(0, param.point.x - tip.offsetWidth - 24);
    }
    tip.style.left = x + 'px';
  });

  document.getElementById('chart-fit').addEventListener('click', function () {
    chart.timeScale().fitContent();
  });
  // A round trip's row zooms the chart to it.
  var trips = document.getElementById('round-trips');
  if (trips) {
    trips.addEventListener('click', function (event) {
      var row = event.target.closest('tr[data-from]');
      if (!row) {
        return;
      }
      var from = Number(row.getAttribute('data-from'));
      var to = Number(row.getAttribute('data-to'));
      var pad = Math.max(3600, (to - from) / 2);
      chart.timeScale().setVisibleRange({ from: from - pad, to: to + pad });
      box.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  }

  // Whether a pane shows anything: a pixel of colour (the background and
  // grid are white and grey).
  function inked(p) {
    var element = p.getHTMLElement();
    var canvases = element ? element.querySelectorAll('canvas') : [];
    for (var c = 0; c < canvases.length; c++) {
      var canvas = canvases[c];
      if (!canvas.width || !canvas.height) {
        continue;
      }
      var pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (var k = 0; k < pixels.length; k += 28) {
        if (pixels[k + 3] > 0 && (pixels[k] !== pixels[k + 1] || pixels[k + 1] !== pixels[k + 2])) {
          return true;
        }
      }
    }
    return false;
  }
  var panes = chart.panes();
  root.setAttribute('data-charts', String(panes.length));
  var tries = 0;
  function check() {
    var drawn = panes.filter(inked).length;
    if (drawn < panes.length && tries < 40) {
      tries += 1;
      setTimeout(check, 50);
      return;
    }
    root.setAttribute('data-charts-drawn', String(drawn));
  }
  requestAnimationFrame(function () { requestAnimationFrame(check); });
})();
