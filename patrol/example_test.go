package patrol_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
)

func ExampleLineCoverage() {
	// A 10 km line, and a track along its western 4 km, 300 m north of it.
	l := orb.LineString{{38.0, 48.3}, {38.1351, 48.3}}
	track := orb.LineString{{38.0, 48.3027}, {38.05408, 48.3027}}
	c := patrol.LineCoverage(l, []orb.LineString{track}, 500, 0)
	fmt.Printf("%.1f of %.1f km (%.0f%%) in %d samples\n", c.CoveredKM, c.LengthKM, c.Share*100, c.Samples)
	// Output: 4.4 of 10.0 km (44%) in 100 samples
}

func ExampleSurvey_Coverage() {
	zone := patrol.Zone{ID: "disengagement-1", Geometry: orb.Polygon{{{38.0, 48.3}, {38.027, 48.3}, {38.027, 48.318}, {38.0, 48.318}, {38.0, 48.3}}}}
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	tracks := []patrol.Track{{ID: "team1-0303", Team: "team1", Start: day.Add(8 * time.Hour), End: day.Add(11 * time.Hour),
		Path: orb.LineString{{38.0, 48.309}, {38.027, 48.309}}}}
	cams := []patrol.Footprint{{ID: "cam-1", Kind: "camera", Area: orb.Polygon{{{38.0, 48.3}, {38.01, 48.3}, {38.0, 48.306}, {38.0, 48.3}}},
		Up: []patrol.Interval{{From: day, To: day.Add(6 * time.Hour)}}}}
	s, err := patrol.NewSurvey([]patrol.Zone{zone}, tracks, cams, patrol.Params{DistanceM: 500})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.MarshalIndent(s.Coverage(patrol.Days(day, day.Add(24*time.Hour)))[0], "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "zone": "disengagement-1",
	//   "period": {
	//     "label": "2025-03-03",
	//     "from": "2025-03-03T00:00:00Z",
	//     "to": "2025-03-04T00:00:00Z"
	//   },
	//   "kind": "area",
	//   "distance_m": 500,
	//   "resolution_m": 500,
	//   "share": 0.5625,
	//   "samples": 16,
	//   "covered": 9,
	//   "length_km": 0,
	//   "covered_km": 0,
	//   "area_km2": 4,
	//   "covered_km2": 2.25,
	//   "tracks": [
	//     "team1-0303"
	//   ],
	//   "footprints": [
	//     {
	//       "id": "cam-1",
	//       "kind": "camera",
	//       "up_hours": 6
	//     }
	//   ]
	// }
}

func ExampleSurvey_Gaps() {
	// A 2 km line; its western half patrolled on 1 March, nothing since.
	line := patrol.Zone{ID: "contact", Geometry: orb.LineString{{38.0, 48.3}, {38.027037, 48.3}}}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	tracks := []patrol.Track{{ID: "t1", Start: day.Add(9 * time.Hour), End: day.Add(12 * time.Hour),
		Path: orb.LineString{{38.0, 48.3005}, {38.0135, 48.3005}}}}
	s, err := patrol.NewSurvey([]patrol.Zone{line}, tracks, nil, patrol.Params{DistanceM: 100, StepM: 250})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range s.Gaps(day.AddDate(0, 0, 10), 7)[0].Stretches {
		b, _ := json.Marshal(st)
		fmt.Println(string(b))
	}
	// Output:
	// {"part":0,"from_km":1,"to_km":2,"length_km":1,"lon":38.0202778,"lat":48.3,"path":[[38.0135185,48.3],[38.027037,48.3]],"never":true,"last_visited":null,"days_since":0}
	// {"part":0,"from_km":0,"to_km":1,"length_km":1,"lon":38.0067593,"lat":48.3,"path":[[38,48.3],[38.0135185,48.3]],"never":false,"last_visited":"2025-03-01T12:00:00Z","days_since":9.5}
}
