package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/web"
)

// TestPageLanguage: a page is in the language ?lang= names, which a
// cookie then remembers, else in the one Accept-Language prefers, else in
// English; its html element, Content-Language and switcher say which, and
// the switcher links the same page, with its query, in every language.
func TestPageLanguage(t *testing.T) {
	h := web.New(fixture(), web.WithLogger(slog.New(slog.DiscardHandler)))
	for _, tc := range []struct {
		name, path, accept, cookie string
		want, h1                   string
		remember                   string // the cookie set; "" for none
	}{
		{"default", "/", "", "", "en", "Overview", ""},
		{"accept uk", "/", "uk-UA,uk;q=0.9,en;q=0.5", "", "uk", "Огляд", ""},
		{"accept ru", "/board", "ru", "", "ru", "Табло гарантов", ""},
		{"accept other", "/", "de-DE, fr;q=0.8", "", "en", "Overview", ""},
		{"query", "/?lang=uk", "ru", "", "uk", "Огляд", "uk"},
		{"query en", "/map?lang=en", "uk", "ru", "en", "Map of incidents", "en"},
		{"cookie", "/explorer", "en", "ru", "ru", "Обозреватель журнала", ""},
		{"cookie beats accept", "/reports", "uk", "uk", "uk", "Щоденні звіти", ""},
		{"unknown query", "/?lang=xx", "ru", "", "ru", "Обзор", ""},
		{"unknown cookie", "/", "", "de", "en", "Overview", ""},
		{"error page", "/nowhere?lang=ru", "", "", "ru", "Страница не найдена", "ru"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body := rec.Body.String()
			if got := res.Header.Get("Content-Language"); got != tc.want {
				t.Errorf("Content-Language %q, want %q", got, tc.want)
			}
			if !strings.Contains(body, `<html lang="`+tc.want+`">`) || !strings.Contains(body, "<h1>"+tc.h1+"</h1>") {
				t.Errorf("no <html lang=%q> or <h1>%s</h1>", tc.want, tc.h1)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Cookie") {
				t.Errorf("Vary %q", res.Header.Get("Vary"))
			}
			var set string
			for _, c := range res.Cookies() {
				if c.Name == "lang" {
					set = c.Value
					if c.Path != "/" || c.MaxAge <= 0 || c.SameSite != http.SameSiteLaxMode {
						t.Errorf("cookie %+v", c)
					}
				}
			}
			if set != tc.remember {
				t.Errorf("cookie set to %q, want %q", set, tc.remember)
			}
			// The switcher: each language named in itself, the current one
			// marked.
			for _, l := range []struct{ code, name string }{{"en", "English"}, {"uk", "Українська"}, {"ru", "Русский"}} {
				cur := ""
				if l.code == tc.want {
					cur = ` aria-current="true"`
				}
				want := regexp.MustCompile(`<a href="[^"]*lang=` + l.code + `[^"]*" hreflang="` + l.code + `" lang="` + l.code + `"` + cur + `>` + l.name + `</a>`)
				if !want.MatchString(body) {
					t.Errorf("no switcher link to %s", l.code)
				}
			}
		})
	}
	// The switcher keeps the page and its query.
	_, body := get(t, h, "/map?level=verified&lang=uk")
	mustContain(t, "map", body, `<a href="/map?lang=ru&amp;level=verified" hreflang="ru" lang="ru">Русский</a>`,
		`<link rel="alternate" hreflang="en" href="/map?lang=en&amp;level=verified">`,
		`<option value="verified" selected>Верифіковано</option>`, "Інцидентів: 1")
	// The switcher links keep the path as it came.
	_, body = get(t, h, "/nowhere%3Cscript%3E")
	mustContain(t, "404", body, `<a href="/nowhere%3Cscript%3E?lang=uk" hreflang="uk"`)
	noRawHostile(t, "404", body)

	// Every page renders in every language.
	src := exchangeFixture()
	for _, lang := range []string{"en", "uk", "ru"} {
		h := web.New(src, web.WithLogger(slog.New(slog.DiscardHandler)), web.WithLog(fakeLog{cp: checkpoint}), clock("2026-01-08T08:00:00Z"))
		for _, path := range []string{"/", "/map", "/incidents/10", "/reports", "/reports/2026-01-07", "/board", "/exchanges/x-2026", "/explorer", "/explorer?q=10", "/explorer/entries/10", "/nowhere"} {
			res, body := get(t, h, path+map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")]+"lang="+lang)
			if res.StatusCode >= 500 || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: %s", path, lang, res.Status)
			}
			noRawHostile(t, path, body)
		}
	}
	_, body = get(t, h, "/board?lang=ru")
	mustContain(t, "board", body, `data-i18n="{&#34;countdown.days&#34;:&#34;%d д&#34;`)
}
