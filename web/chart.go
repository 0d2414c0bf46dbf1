package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// The geometry of a bar chart, in SVG user units: the drawing scales to
// the width of its box.
const (
	chartW, chartH           = 720, 220
	chartLeft, chartRight    = 44, 24
	chartTop, chartBottom    = 12, 30
	chartPlotW, chartPlotH   = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartLabelEvery30        = 7
	chartLabelEveryOtherwise = 14
)

// barChart draws the daily counts as an SVG bar chart: one bar a day, a
// y axis with round ticks, a date under every seventh (or fourteenth)
// bar. Its <title> and <desc> say in words what it shows, for screen
// readers, and each bar has its own <title> with the day and the count.
// id must be unique in the page. The drawing uses classes only, no
// inline style, which the pages' Content-Security-Policy forbids.
func barChart(lang, id string, days []DayCount) template.HTML {
	if len(days) == 0 {
		return ""
	}
	peak, peakDay, empty := 0, days[0].Day, 0
	for _, d := range days {
		if d.Incidents > peak {
			peak, peakDay = d.Incidents, d.Day
		}
		if d.Incidents == 0 {
			empty++
		}
	}
	first, last := days[0].Day, days[len(days)-1].Day
	title, _ := translate(lang, "chart.title", first, last)
	desc, _ := translate(lang, "chart.desc", len(days), first, last, peak, peakDay, empty)
	step := tickStep(peak)
	top := step * ((peak + step - 1) / step)
	if top == 0 {
		top = step
	}
	y := func(v int) float64 { return chartTop + chartPlotH - float64(v)*chartPlotH/float64(top) }
	esc := template.HTMLEscapeString
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		esc(id), chartW, chartH, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	b.WriteString(`<g class="axis" aria-hidden="true">`)
	for v := 0; v <= top; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="tick" x="%d" y="%s" text-anchor="end">%d</text>`,
			chartLeft, chartW-chartRight, f(y(v)), f(y(v)), chartLeft-6, f(y(v)+4), v)
	}
	b.WriteString(`</g><g class="bars">`)
	slot := float64(chartPlotW) / float64(len(days))
	gap := max(0.5, slot*0.15)
	every := chartLabelEveryOtherwise
	if len(days) <= 31 {
		every = chartLabelEvery30
	}
	var labels strings.Builder
	for i, d := range days {
		x := chartLeft + float64(i)*slot
		bar, _ := translate(lang, "chart.bar", d.Day, d.Incidents)
		h := float64(chartTop+chartPlotH) - y(d.Incidents)
		fmt.Fprintf(&b, `<rect class="bar" data-day="%s" data-count="%d" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			esc(d.Day), d.Incidents, f(x+gap/2), f(y(d.Incidents)), f(slot-gap), f(h), esc(bar))
		if (len(days)-1-i)%every == 0 {
			// Label the last day, and every seventh or fourteenth before it.
			fmt.Fprintf(&labels, `<text class="tick" x="%s" y="%d" text-anchor="middle">%s</text>`, f(x+slot/2), chartH-10, esc(d.Day[5:]))
		}
	}
	fmt.Fprintf(&b, `</g><g class="axis" aria-hidden="true"><line class="baseline" x1="%d" x2="%d" y1="%d" y2="%d"/>%s</g></svg>`,
		chartLeft, chartW-chartRight, chartTop+chartPlotH, chartTop+chartPlotH, labels.String())
	return template.HTML(b.String())
}

// tickStep returns the y axis's step for a peak value: 1, 2 or 5 times a
// power of ten, so that at most five steps reach the peak.
func tickStep(peak int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if s := m * p; s*5 >= peak {
				return s
			}
		}
	}
}
