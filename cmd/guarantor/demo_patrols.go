package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/mod/sumdb/note"
)

// demoPatrols logs SYNTHETIC patrols of the monitoring mission over the
// last days: three teams of two monitors drive stretches of the line of
// contact (a plan, the track, the observations), one team is stopped at
// a checkpoint every third day (a movement_restriction observation, then
// a restricted report), and a fixed camera reports the hours it was up,
// with an outage. monitors are the demo's monitor keys (at least six).
// It returns how many reports it logged.
func demoPatrols(ctx context.Context, c *client, doc *entry.Agreement, monitors []note.Signer, days int, now time.Time) (int, error) {
	var line orb.LineString
	for _, l := range doc.Lines {
		if g, err := geojson.UnmarshalGeometry(l.Geometry); err == nil {
			if ls, ok := g.Geometry().(orb.LineString); ok && line == nil {
				line = ls
			}
		}
	}
	if line == nil || len(monitors) < 6 {
		return 0, nil
	}
	id := func(s note.Signer) string { return entry.KeyID(s.Name(), s.KeyHash()) }
	pos := func(p orb.Point) string { return fmt.Sprintf("[%.4f,%.4f]", p[0], p[1]) }
	submit := func(kind entry.Kind, body string, signers ...note.Signer) error {
		return signSubmit(ctx, c, kind, []byte(body), signers...)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	reports := 0
	for d := min(days, 7); d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		for team := range 3 {
			lead, second := monitors[2*team], monitors[2*team+1]
			// A stretch of the line, shifted north or south of it by up
			// to 8 km: each team its own stretch each day.
			start := (team*5 + d*3) % max(1, len(line)-4)
			offset := []float64{-0.06, 0.02, 0.07}[team]
			var track []string
			for _, p := range line[start : start+5] {
				track = append(track, pos(orb.Point{p[0], p[1] + offset}))
			}
			route := "[" + join(track) + "]"
			planID := fmt.Sprintf("demo-%s-team%d", day.Format("20060102"), team+1)
			from, to := day.Add(7*time.Hour), day.Add(17*time.Hour)
			plan := fmt.Sprintf(`{"id":%q,"at":%q,"agreement":%q,"team":"team-%d","members":[%q,%q],"means":"vehicle","vehicles":["B6 armoured vehicle"],`+
				`"route":{"type":"LineString","coordinates":%s},"from":%q,"to":%q,"purpose":"SYNTHETIC demo patrol along the line of contact"}`,
				planID, day.Add(6*time.Hour).Format(time.RFC3339), doc.ID, team+1, id(lead), id(second), route, from.Format(time.RFC3339), to.Format(time.RFC3339))
			if err := submit(entry.KindPatrolPlan, plan, lead); err != nil {
				return reports, fmt.Errorf("plan %s: %w", planID, err)
			}
			report := fmt.Sprintf(`{"id":%q,"at":%q,"plan":%q,"start":%q,"end":%q,"outcome":"completed","track":{"type":"LineString","coordinates":%s},"simplified_m":%d,"text":"SYNTHETIC"}`,
				planID+"-report", to.Add(time.Hour).Format(time.RFC3339), planID, from.Add(10*time.Minute).Format(time.RFC3339), to.Add(-30*time.Minute).Format(time.RFC3339), route, entry.PatrolTrackTolerance)
			if team == 2 && d%3 == 0 {
				// Stopped at a checkpoint halfway: the restriction is an
				// observation first, so that triggers count it.
				stop := line[start+2]
				at := from.Add(3 * time.Hour)
				party := []string{"RU", "UA"}[d%2]
				obsID := planID + "-restriction"
				obs := fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":%s},"category":"movement_restriction","source_type":"patrol","text":"SYNTHETIC: patrol stopped at a checkpoint"}`,
					obsID, at.Format(time.RFC3339), pos(orb.Point{stop[0], stop[1] + offset}))
				if err := submit(entry.KindObservation, obs, lead); err != nil {
					return reports, fmt.Errorf("restriction of %s: %w", planID, err)
				}
				half := "[" + join(track[:3]) + "]"
				report = fmt.Sprintf(`{"id":%q,"at":%q,"plan":%q,"start":%q,"end":%q,"outcome":"restricted","reason":"restriction","track":{"type":"LineString","coordinates":%s},"simplified_m":%d,`+
					`"observations":[%q],"restrictions":[{"observation":%q,"at":%q,"location":{"type":"Point","coordinates":%s},"by":"checkpoint","party":%q,"duration_min":120}],"text":"SYNTHETIC"}`,
					planID+"-report", to.Add(time.Hour).Format(time.RFC3339), planID, from.Add(10*time.Minute).Format(time.RFC3339), at.Add(2*time.Hour).Format(time.RFC3339), half, entry.PatrolTrackTolerance,
					obsID, obsID, at.Format(time.RFC3339), pos(orb.Point{stop[0], stop[1] + offset}), party)
			}
			if err := submit(entry.KindPatrolReport, report, lead, second); err != nil {
				return reports, fmt.Errorf("report of %s: %w", planID, err)
			}
			reports++
		}
		// A fixed camera on the line: its field of view, and the hours its
		// heartbeats show it up, with an outage in the afternoon.
		cam := line[len(line)/2]
		k := 0.03
		area := fmt.Sprintf(`[[%s,%s,%s,%s,%s]]`, pos(orb.Point{cam[0] - k, cam[1] - k}), pos(orb.Point{cam[0] + k, cam[1] - k}), pos(orb.Point{cam[0] + k, cam[1] + k}), pos(orb.Point{cam[0] - k, cam[1] + k}), pos(orb.Point{cam[0] - k, cam[1] - k}))
		camID := fmt.Sprintf("demo-%s-camera", day.Format("20060102"))
		cp := fmt.Sprintf(`{"id":%q,"at":%q,"agreement":%q,"team":"camera-1","members":[%q],"means":"camera","area":{"type":"Polygon","coordinates":%s},"from":%q,"to":%q,"purpose":"SYNTHETIC fixed camera"}`,
			camID, day.Format(time.RFC3339), doc.ID, id(monitors[0]), area, day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339))
		if err := submit(entry.KindPatrolPlan, cp, monitors[0]); err != nil {
			return reports, fmt.Errorf("camera plan: %w", err)
		}
		outage := time.Duration(12+d%5) * time.Hour
		cr := fmt.Sprintf(`{"id":%q,"at":%q,"plan":%q,"start":%q,"end":%q,"outcome":"partial","reason":"technical","up":[{"from":%q,"to":%q},{"from":%q,"to":%q}],"text":"SYNTHETIC"}`,
			camID+"-report", day.AddDate(0, 0, 1).Format(time.RFC3339), camID, day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339),
			day.Format(time.RFC3339), day.Add(outage).Format(time.RFC3339), day.Add(outage+3*time.Hour).Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339))
		if day.AddDate(0, 0, 1).After(now) {
			continue
		}
		if err := submit(entry.KindPatrolReport, cr, monitors[0]); err != nil {
			return reports, fmt.Errorf("camera report: %w", err)
		}
		reports++
	}
	return reports, nil
}

func join(s []string) string { return strings.Join(s, ",") }
