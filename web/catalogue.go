package web

import (
	"fmt"
	"slices"
)

// catalogue holds every string the pages show, by language and key.
// English is complete and comes first; another language may leave keys
// out, which then show in English. Strings with arguments are fmt
// formats; to add a language, add its map (the tests check that its keys
// and verbs match English).
var catalogue = map[string]map[string]string{
	"en": {
		"site.name":    "guarantor",
		"site.tagline": "ceasefire monitoring on a public, verifiable log",
		"nav.skip":     "Skip to the main content",
		"nav.label":    "Main",
		"nav.home":     "Overview",
		"nav.map":      "Map of incidents",
		"nav.data":     "Open data and feeds",
		"nav.api":      "API",

		"footer.data":    "Open data:",
		"footer.truth":   "Every figure here is computed from the public log; every log entry links to its signed note, and anyone can audit the log and replay the engine with guarantor verify and guarantor replay.",
		"footer.credits": "Base map: Natural Earth (public domain), via world-atlas. Map library: Leaflet (BSD-2-Clause).",

		"data.incidents.csv":        "Incidents (CSV)",
		"data.incidents.geojson":    "Incidents (GeoJSON)",
		"data.incidents.json":       "Incidents (JSON)",
		"data.observations.csv":     "Observations (CSV)",
		"data.observations.geojson": "Observations (GeoJSON)",
		"data.obligations.csv":      "Obligations (CSV)",
		"data.guarantors.csv":       "Fulfilment record per guarantor and party (CSV)",
		"data.sanctions":            "Sanctions (FollowTheMoney JSON lines)",
		"data.openapi":              "API description (OpenAPI 3.1)",
		"data.feeds":                "Atom feeds of obligations",
		"data.checkpoint":           "Log checkpoint",

		"error.home":               "Go to the overview",
		"error.internal.title":     "Something went wrong",
		"error.internal.text":      "The server could not read the data for this page. The error is logged; please try again later.",
		"error.notfound.title":     "Page not found",
		"error.notfound.text":      "There is no page at %s.",
		"error.incident.title":     "Incident not found",
		"error.incident.text":      "There is no incident %s. An incident's number is the log index of its first observation.",
		"home.title":               "Overview",
		"home.lede":                "Monitors of the mission sign what they observe; every observation and every decision of the engine goes onto a public transparency log, from which the figures below are computed.",
		"home.log":                 "The log",
		"log.size":                 "Entries",
		"log.origin":               "Origin",
		"log.root":                 "Root hash",
		"log.checkpoint":           "Signed checkpoint",
		"log.verify":               "Verify it yourself:",
		"log.unavailable":          "The log's state is not available here.",
		"home.incidents":           "Incidents",
		"home.incidents.total":     "Open incidents: %d",
		"home.incidents.caption":   "Open incidents by corroboration level",
		"home.level.link":          "%d, %s: see them on the map",
		"home.openmap":             "See them on the map",
		"home.obligations":         "Obligations",
		"home.obligations.open":    "Open obligations: %d.",
		"home.determinations":      "Triggers fired: %d.",
		"home.obligations.caption": "Due soonest (the first %d)",
		"home.obligations.json":    "Open obligations (JSON)",
		"home.determinations.json": "Determinations (JSON)",
		"home.agreements":          "Agreements",
		"agreement.version":        "version %d",
		"agreement.effective":      "in force from",
		"agreement.illustrative":   "illustrative",
		"home.agreements.none":     "No agreement is logged yet.",
		"home.data":                "Open data and feeds",
		"home.feeds.none":          "No agreement binds a guarantor or party yet.",
		"feed.title":               "Obligations of %s (Atom)",

		"map.title":             "Map of incidents",
		"filter.title":          "Filter",
		"filter.from":           "From",
		"filter.to":             "Until (not included)",
		"filter.category":       "Category",
		"filter.level":          "Corroboration level",
		"filter.any":            "Any",
		"filter.dates.help":     "Dates are UTC. An incident is shown when its time span overlaps the period.",
		"filter.apply":          "Apply the filter",
		"filter.reset":          "Clear the filter",
		"filter.error.time":     "%s: %q is not a date like 2025-03-01 or a time like 2025-03-01T18:00:00Z.",
		"filter.error.category": "There is no category %q.",
		"filter.error.level":    "There is no corroboration level %q.",
		"map.map":               "Map",
		"map.label":             "Map of the incidents selected, with the agreements' zones and lines",
		"map.help":              "Use the arrow keys to pan and + and − to zoom; Tab moves through the incidents and groups, Enter opens one. A number is a group of nearby incidents: open it to zoom in.",
		"map.noscript":          "The map needs JavaScript. The table below lists the same incidents.",
		"map.legend":            "Legend",
		"map.legend.zone":       "Zone of an agreement",
		"map.legend.line":       "Line of an agreement",
		"map.table":             "Incidents selected",
		"map.count":             "Incidents: %d",
		"map.downloads":         "Download the same selection:",
		"map.table.truncated":   "The newest %d of the %d incidents; download them all above",
		"map.table.caption":     "Incidents, newest first",
		"map.none":              "No open incident matches the filter.",

		"col.level":        "Level",
		"col.incidents":    "Incidents",
		"col.incident":     "Incident",
		"col.category":     "Category",
		"col.from":         "From",
		"col.to":           "To",
		"col.place":        "Place (lat, lon)",
		"col.count":        "Count",
		"col.monitors":     "Monitors",
		"col.observations": "Observations",
		"col.attributed":   "Attributed to",
		"col.entry":        "Log entry",
		"col.obligation":   "Obligation",
		"col.who":          "Owed by",
		"col.action":       "Action",
		"col.agreement":    "Agreement",
		"col.trigger":      "Trigger",
		"col.deadline":     "Deadline",
		"col.sources":      "Source types",
		"col.weapons":      "Weapons",
		"col.verdicts":     "Verdicts",
		"col.revision":     "Revision",
		"col.status":       "Status",
		"col.observed":     "Observed",
		"col.source":       "Source",
		"col.weapon":       "Weapon",
		"col.signer":       "Signed by",
		"col.text":         "Text",
		"col.at":           "At",
		"col.verdict":      "Verdict",
		"col.confidence":   "Confidence",
		"col.basis":        "Basis",
		"col.analyst":      "Analyst",

		"incident.link":                  "Incident %d",
		"incident.title":                 "Incident %d",
		"incident.mergedinto":            "This incident was merged into",
		"incident.verdicts":              "verify %d, dispute %d, reject %d",
		"incident.rule":                  "Fusion rule",
		"incident.latest":                "Latest revision",
		"incident.revision":              "revision %d",
		"incident.entry":                 "entry %d",
		"incident.map.label":             "Map of the incident's centroid and observations",
		"incident.json":                  "The same as JSON:",
		"incident.revisions":             "Revisions",
		"incident.revisions.caption":     "Revisions: %d, each a log entry signed by the engine",
		"incident.absorbed":              "Incidents merged into this one",
		"incident.observations":          "Observations",
		"incident.observations.caption":  "Observations of the latest revision: %d, each signed by its monitor",
		"incident.observations.none":     "No observation could be read.",
		"incident.verifications":         "Verifications",
		"incident.verifications.caption": "Verifications by analysts: %d",
		"incident.verifications.none":    "No analyst has verified this incident.",
		"incident.proof":                 "Checking this page",
		"incident.proof.text":            "Each log entry link returns the signed note as it stands in the log, with its index and leaf hash. The log's tiles under /log/ prove the entry is included in the tree that the signed checkpoint commits to, and guarantor replay recomputes every revision from the observations.",

		"level.reported":     "Reported",
		"level.corroborated": "Corroborated",
		"level.verified":     "Verified",
		"status.open":        "open",
		"status.merged":      "merged",
		"verdict.verify":     "verify",
		"verdict.dispute":    "dispute",
		"verdict.reject":     "reject",

		"category.shelling":              "Shelling",
		"category.small_arms":            "Small-arms fire",
		"category.drone_strike":          "Drone strike",
		"category.air_strike":            "Air strike",
		"category.missile_strike":        "Missile strike",
		"category.explosion_heard":       "Explosion heard",
		"category.heavy_weapon_sighting": "Heavy weapon sighted",
		"category.troop_movement":        "Troop movement",
		"category.mine":                  "Mine",
		"category.movement_restriction":  "Restriction of the mission's movement",
		"category.civilian_casualty":     "Civilian casualty",
		"category.infrastructure_damage": "Damage to infrastructure",
		"category.deployment_sighting":   "Deployment sighted",
		"category.other":                 "Other",

		"js.incident":        "Incident %d",
		"js.incidents":       "Incidents on the map: %d",
		"js.cluster":         "A group of nearby incidents (%d): open it to zoom in",
		"js.layer.incidents": "Incidents",
		"js.layer.zones":     "Zones",
		"js.layer.lines":     "Lines",
		"js.details":         "Details and log entries",
		"js.load.error":      "Could not load %s.",
		"js.members":         "Observation (entry %d)",
		"js.centroid":        "Centroid of the incident",
	},
}

// name returns the display name of a value of an enumeration (kind is
// "category", "level", "status" or "verdict"): its catalogue string, or
// the value itself when the catalogue lacks it, so that a category added
// to the schema shows before it is translated.
func name(lang, kind, value string) string {
	if s, err := translate(lang, kind+"."+value); err == nil {
		return s
	}
	return value
}

// languages returns the catalogue's languages, English first.
func languages() []string {
	out := []string{"en"}
	for l := range catalogue {
		if l != "en" {
			out = append(out, l)
		}
	}
	slices.Sort(out[1:])
	return out
}

// translate returns the string key in lang (English when lang lacks it),
// formatted with args when there are any; an error for a key that
// English lacks.
func translate(lang, key string, args ...any) (string, error) {
	s, ok := catalogue[lang][key]
	if !ok {
		if s, ok = catalogue["en"][key]; !ok {
			return "", fmt.Errorf("no string %q in the catalogue", key)
		}
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s, nil
}
