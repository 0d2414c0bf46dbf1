// Package patrol computes what the monitoring mission's patrols achieved:
// simplified tracks, the coverage of the zones and lines the agreement
// says must be monitored, the places not visited for too long, camera
// outages, and counts of freedom-of-movement restrictions (issue 11).
//
// It is pure: no I/O, no clock, no randomness, no global state. Every
// output is in a fixed order (the order of the input zones, periods and
// tracks, or sorted as documented), so the figures are replayable. The
// methods below are stated so that an auditor can recompute every figure.
//
// # Coordinates and distances
//
// Coordinates are WGS84 longitude and latitude in degrees, as in
// GeoJSON. Distances use the same local equirectangular projection as
// the engine's agreement.LineKM: a degree of latitude is KMPerDegree
// (111.195) km and a degree of longitude KMPerDegree·cos(latitude) km.
// The distance from a point p to a track segment ab is measured on the
// projection centred on p (x = Δlon·cos(lat_p)·KMPerDegree, y =
// Δlat·KMPerDegree), with ab a straight line in that plane. A length
// along a line (a zone line or a track) is the sum of its segments'
// lengths, each on the projection at the segment's mean latitude.
// Geometries are planar in degrees: none may cross the antimeridian.
//
// # Coverage
//
// A zone is a line (LineString or MultiLineString) or an area (Polygon
// or MultiPolygon). It is replaced by samples:
//
//   - Line: each part of length L km is cut into n = max(1, ceil(L/step
//     − 10⁻⁶)) equal pieces (step: Params.StepM, default DefaultStepM =
//     100 m); the sample is the centre of each piece, found by walking the
//     part's segments and interpolating linearly in longitude and
//     latitude, and it stands for the piece's length L/n. A part of zero
//     length has no samples.
//   - Area: a regular grid on the projection centred at the latitude
//     lat0 of the middle of the area's bounding box: cells are cellM
//     metres square (Params.CellM, default DefaultCellM = 500 m), that is
//     cellM/(KMPerDegree·1000) degrees of latitude by
//     cellM/(KMPerDegree·1000·cos(lat0)) degrees of longitude, counted
//     from the bounding box's south-west corner; column i, row j has its
//     centre at (west+(i+½)·Δlon, south+(j+½)·Δlat), and the area has
//     the cells whose centre lies inside it (even-odd rule on the outer
//     ring, outside every hole; inside any polygon of a MultiPolygon). A
//     polygon containing no centre at all is given the one cell whose
//     square contains its bounding box's centre.
//
// A sample is covered, or visited, by a track when its distance to some
// segment of the track is at most D metres (Params.DistanceM), and by a
// footprint (a camera's field of view, a UAV flight's swath) when it lies
// inside the footprint's polygon (even-odd rule, as for areas; D does not
// apply). The share of a line is the length its covered samples stand for
// over its length; the share of an area is covered cells over cells, and
// its km² figures are cell counts times the nominal cell area (cellM)²,
// a cell's true area differing from it by tan(lat0)·Δφ (Δφ in radians,
// the cell's latitude less lat0): about 2% per degree at 48°N. Track segments are found through a bucket index (a grid of
// buckets max(2D, 500 m) square, larger if the tracks would need more
// than 4M of them; each segment, cut into pieces no longer than a bucket,
// is listed in every bucket that its bounding box widened by at least D
// overlaps): it only avoids computing distances that could not be within
// D, and changes no result.
//
// # Time
//
// A track covers what it comes near during its whole span [Start, End]:
// a report gives one span for the track, not a time for each point. A
// footprint covers its cells during its up intervals; for a camera they
// are the intervals its heartbeats show it working (see Uptime), and its
// coverage-hours in a period are the length of the union of its up
// intervals within the period. A source is active in a period [From, To)
// when its span or one of its up intervals overlaps the period for a
// positive time, or, if the span is a single instant, when that instant
// lies in the period. The coverage of a zone in a period (Survey.Coverage,
// with Days for UTC days or Weeks for ISO weeks starting on Monday 00:00
// UTC) counts the samples covered by the sources active in that period.
//
// As of a time T, a sample's last visit is the latest min(End, T) over the
// tracks covering it that started at or before T, and the latest
// min(To, T) over the up intervals, starting at or before T, of the
// footprints covering it. A sample is stale (Survey.Gaps) when it was
// never visited or its last visit is more than N days (N·24 h) before T.
// Stale line samples are grouped into stretches of consecutive samples of
// one part (a stretch never mixes never-visited samples with visited ones);
// stale cells are listed one by one.
//
// # Restrictions
//
// RestrictionCounts counts each restriction whose time lies in a period
// [From, To) once by party, once by who or what stopped the patrol, and
// once in every zone containing its location (the caller passes the
// point-in-zone test, normally the engine's agreement.Compiled.InZone).
//
// # Determinism
//
// Comparisons are made in float64 with explicit conversions that forbid
// fused multiply-add, so the same inputs give the same figures on every
// platform Go supports with a pure-Go math.Cos.
package patrol
