package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
)

// TestCatalogueIsComplete: every key the templates and the Go code name
// is in the English catalogue, every value of an enumeration the pages
// show has an English name, and Ukrainian, Russian and any other language
// have every English key and no other, with the same format verbs in the
// same order, translated (but for the few names that are the same in
// every language).
func TestCatalogueIsComplete(t *testing.T) {
	enumeration := regexp.MustCompile(`^(category|level|status|verdict|list)\.`)
	en := catalogue["en"]
	used := map[string]string{} // key -> where
	keyRe := regexp.MustCompile(`(?:\bt|translate\([^,()]+(?:\([^)]*\))?,|\{|, )\s*"([a-z0-9_]+\.[a-z0-9_.]+)"`)
	for _, dir := range []string{"templates", "."} {
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := filepath.Join(dir, f.Name())
			if f.IsDir() || strings.HasSuffix(name, "_test.go") || !(strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".go")) {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasSuffix(m[1], ".html") {
					used[m[1]] = name
				}
			}
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: is the pattern stale?", len(used))
	}
	for key, where := range used {
		if _, ok := en[key]; !ok {
			t.Errorf("%s uses %q, which the English catalogue lacks", where, key)
		}
	}
	for key := range en {
		if _, ok := used[key]; !ok && !enumeration.MatchString(key) {
			t.Errorf("the English catalogue has %q, which nothing uses", key)
		}
	}
	var names []string
	for _, c := range entry.Categories {
		names = append(names, "category."+c)
	}
	for _, l := range levels {
		names = append(names, "level."+l)
	}
	names = append(names, "status."+entry.IncidentOpen, "status."+entry.IncidentMerged,
		"verdict."+entry.VerdictVerify, "verdict."+entry.VerdictDispute, "verdict."+entry.VerdictReject)
	for _, k := range names {
		if _, ok := en[k]; !ok {
			t.Errorf("the English catalogue has no name for %q", k)
		}
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	if got := languages(); !slices.Equal(got, []string{"en", "ru", "uk"}) {
		t.Errorf("languages %v, want en, ru and uk", got)
	}
	same := map[string]bool{"site.name": true, "nav.api": true, "board.feed": true}
	for lang, strs := range catalogue {
		for k, e := range en {
			s, ok := strs[k]
			switch {
			case !ok:
				t.Errorf("%s: no %q (English %q)", lang, k, e)
			case lang != "en" && s == e && !same[k]:
				t.Errorf("%s: %q is not translated: %q", lang, k, s)
			case strings.TrimSpace(s) == "":
				t.Errorf("%s: %q is empty", lang, k)
			}
		}
		for k, s := range strs {
			e, ok := en[k]
			if !ok {
				t.Errorf("%s: key %q is not in English", lang, k)
				continue
			}
			if got, want := verbs.FindAllString(s, -1), verbs.FindAllString(e, -1); !slices.Equal(got, want) {
				t.Errorf("%s: %q has verbs %v, English %v", lang, k, got, want)
			}
		}
	}
}

// TestEveryViewIsRegistered: each template file but the layout is a
// view, and parses in every language.
func TestEveryViewIsRegistered(t *testing.T) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		if v := strings.TrimSuffix(filepath.Base(f), ".html"); v != "layout" {
			got = append(got, v)
		}
	}
	want := slices.Clone(views)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("templates %v, views %v", got, want)
	}
	static, err := loadAssets(staticFS, "static")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range languages() {
		if _, err := parsePages(lang, static); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "map.count", []any{3}, "Incidents: 3"},
		{"xx", "map.count", []any{3}, "Incidents: 3"}, // an unknown language falls back to English
		{"en", "nav.map", nil, "Map of incidents"},
		{"uk", "map.count", []any{3}, "Інцидентів: 3"},
		{"ru", "map.count", []any{3}, "Инцидентов: 3"},
		{"uk", "exchange.title", []any{"x"}, "Обмін полоненими x"},
		{"ru", "countdown.left", []any{"1 д"}, "осталось 1 д"},
	} {
		got, err := translate(tc.lang, tc.key, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("translate(%q, %q, %v) = %q, %v; want %q", tc.lang, tc.key, tc.args, got, err, tc.want)
		}
	}
	if _, err := translate("en", "no.such.key"); err == nil {
		t.Error("no error for an unknown key")
	}
	if got := name("en", "category", "brand_new"); got != "brand_new" {
		t.Errorf("an unnamed category shows as %q", got)
	}
}
