package names_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"pgregory.net/rapid"

	"github.com/guarantor/guarantor/exchange/names"
)

func TestKeyVariants(t *testing.T) {
	// Each group lists spellings of one name; they must share a key.
	groups := [][]string{
		{"Шевченко", "Shevchenko", "SHEVCHENKO", "shevchenko", "Шевченко\u00a0"},
		{"Григорій", "Григорий", "Hryhorii", "Grigorii", "Grigoriy", "Gry`gorij", "Hryhoriy", "Grygorij"},
		{"Згурський", "Zghurskyi", "Zgurskii", "Zgurs’kiy", "Zgurs`kij", "Zghurskyy", "Zgurskiy", "Zgurskij", "Zgurskyj"},
		{"Юрій", "Юрий", "Yurii", "Iurii", "Yuriy", "Jurij", "Yurij", "Iuriy"},
		{"Ярослава", "Yaroslava", "Iaroslava", "Jaroslava"},
		{"Щербак", "Shcherbak", "Shherbak", "Scherbak"},
		{"Хрущёв", "Хрущев", "Khrushchev", "Khrushchëv", "Xrushhyov", "Hrushchev", "Khrushchyov", "Khrushchiov"},
		{"Подъячев", "Podieiachev", "Pod”yachev", "Pod``yachev", "Podyachev", "Podiachev", "Podjachev"},
		{"Евгений", "Evgenii", "Yevgeniy", "Evgenij", "Jevgenij", "Ievgenii", "Evgeny"},
		{"Євген", "Yevhen", "Ievgen", "Jevhen", "Evhen", "Yevgen"},
		{"Ціцерон", "Tsitseron", "Ciceron", "Tziceron", "Cziczeron"},
		{"Мар'яна", "Марʼяна", "Mariana", "Maryana", "Mar'yana", "Marjana"},
		{"Їжак", "Yizhak", "Izhak", "Jizhak"},
		{"Андрієнко", "Andriienko", "Andriyenko", "Andrienko", "Andrijenko"},
		{"Шевчук-Щур", "Shevchuk Shchur", "shevchuk_shchur"},
		{"Донецьке", "Донецкое", "Donetske", "Donetskoye", "Donetskoe"},
		{"Фёдор", "Fedor", "Fyodor", "Fiodor", "Fëdor"},
		{"Ševčenko", "Shevchenko"}, // scholarly transliteration
	}
	for _, g := range groups {
		want := names.Key(g[0])
		for _, s := range g[1:] {
			if got := names.Key(s); got != want {
				t.Errorf("Key(%q) = %q, want %q (the key of %q)", s, got, want, g[0])
			}
		}
	}
}

func TestKeyDistinct(t *testing.T) {
	// Different names keep different keys.
	pairs := [][2]string{
		{"Шевченко", "Шевчук"},
		{"Петренко", "Петрук"},
		{"Іваненко", "Іванченко"},
		{"Коваленко", "Коваль"},
		{"Бондар", "Бондаренко"},
		{"Ткаченко", "Кравченко"},
		{"Олена", "Олег"},
		{"Сидоренко", "Симоненко"},
		{"Мельник", "Мельников"},
		{"Жук", "Щук"},
		{"Чорний", "Шорний"},
	}
	for _, p := range pairs {
		if a, b := names.Key(p[0]), names.Key(p[1]); a == b {
			t.Errorf("Key(%q) == Key(%q) == %q, want them to differ", p[0], p[1], a)
		}
	}
}

func TestKeyExamples(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Шевченко", "shevchenko"},
		{"Григорій", "grigori"},
		{"Хрущёв", "grushchev"},
		{"  Олена-Марія  Петрівна ", "olena maria petrivna"},
		{"Ганна", "gana"},
		{"Цой", "tsoi"},
		{"", ""},
		{"123 --- ''", ""},
		{"Νίκος", ""}, // other scripts are dropped
	}
	for _, tt := range tests {
		if got := names.Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// exception reports whether s contains a letter sequence that std cannot
// render unambiguously; see "Matching key" in the package documentation.
func exception(std names.Standard, s string) bool {
	s = strings.ToLower(s)
	rs := []rune(s)
	signless := strings.NewReplacer("ь", "", "ъ", "", "'", "").Replace(s)
	switch std {
	case names.KMU2010:
		return strings.Contains(signless, "кг") || strings.Contains(signless, "сг") || strings.Contains(signless, "шг")
	case names.GOST779B:
		return strings.Contains(signless, "тщ")
	case names.ICAO9303:
		for i, r := range rs {
			if r == 'ъ' && (i+1 == len(rs) || !strings.ContainsRune("еёюя", rs[i+1])) {
				return true
			}
		}
	}
	return false
}

// cyrillicText draws arbitrary text from the Ukrainian or the Russian
// alphabet, with capitals, spaces, hyphens and apostrophes.
func cyrillicText() *rapid.Generator[string] {
	ua := []rune("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя' -")
	ru := []rune("абвгдеёжзийклмнопрстуфхцчшщъыьэюя -")
	return rapid.Custom(func(t *rapid.T) string {
		alphabet := ua
		if rapid.Bool().Draw(t, "russian") {
			alphabet = ru
		}
		rs := rapid.SliceOfN(rapid.SampledFrom(alphabet), 1, 16).Draw(t, "letters")
		caps := rapid.SliceOfN(rapid.Bool(), len(rs), len(rs)).Draw(t, "caps")
		for i := range rs {
			if caps[i] {
				rs[i] = unicode.ToUpper(rs[i])
			}
		}
		return string(rs)
	})
}

func TestKeyTransliterateProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := cyrillicText().Draw(t, "s")
		want := names.Key(s)
		for _, std := range names.Standards() {
			if exception(std, s) {
				continue
			}
			tr := names.Transliterate(s, std)
			if got := names.Key(tr); got != want {
				t.Fatalf("Key(Transliterate(%q, %v)) = Key(%q) = %q, want Key(%q) = %q", s, std, tr, got, s, want)
			}
		}
	})
}

// Realistic names have no exceptions at all: for them equality holds
// under every standard.
func TestKeyTransliterateRealNames(t *testing.T) {
	list := []string{
		"Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Шевчук",
		"Поліщук", "Лисенко", "Мельник", "Савченко", "Руденко", "Мороз", "Павленко", "Левченко",
		"Харченко", "Гнатюк", "Гаврилюк", "Марченко", "Кузьменко", "Зінченко", "Демченко",
		"Приходько", "Литвиненко", "Яковенко", "Ярошенко", "Юрченко", "Євтушенко", "Їжакевич",
		"Згурський", "Щербак", "Щербина", "Цибуленко", "Хмельницький", "Гайовий", "Пʼятаченко",
		"Іванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков",
		"Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
		"Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров",
		"Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев",
		"Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин",
		"Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов",
		"Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов",
		"Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов", "Крылов",
		"Подъячев", "Объедков", "Хрущёв", "Щукин", "Цыганков", "Эйхвальд", "Юдин", "Ёлкин",
		"Олександр", "Олексій", "Юрій", "Ярослава", "Григорій", "Мар'яна", "Наталія", "Ілля",
		"Сергеевич", "Олексіївна", "Миколайович", "Андріївна", "Владимировна", "Юрьевич",
	}
	for _, s := range list {
		want := names.Key(s)
		for _, std := range names.Standards() {
			if tr := names.Transliterate(s, std); names.Key(tr) != want {
				t.Errorf("Key(Transliterate(%q, %v)) = Key(%q) = %q, want %q", s, std, tr, names.Key(tr), want)
			}
		}
	}
}

func TestKeyIdempotentProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), cyrillicText(), rapid.StringMatching(`[a-zA-Z'`+"`"+` -]{0,20}`)).Draw(t, "s")
		checkKey(t, s)
	})
}

// checkKey asserts Key's contract on s: ASCII lower-case letters and
// single inner spaces, and idempotence.
func checkKey(t interface{ Fatalf(string, ...any) }, s string) {
	if !names.FastPathAgrees(s) {
		t.Fatalf("Key's fast and general paths disagree on %q", s)
	}
	k := names.Key(s)
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c == ' ' && i > 0 && i < len(k)-1 && k[i-1] != ' ') {
			t.Fatalf("Key(%q) = %q: byte %d (%q) is not a lower-case ASCII letter or a single inner space", s, k, i, c)
		}
	}
	if kk := names.Key(k); kk != k {
		t.Fatalf("Key(Key(%q)) = %q, want %q", s, kk, k)
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{
		"Шевченко", "Zghurskyi", "Pod``yachev", "Хрущёв", "Ševčenko", "Мар'яна", "tsch", "shch",
		"ioo", "eia", "skoe", "Ｉｖａｎ", "ß", "й", "й", "\xff\xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkKey(t, s)
		_ = names.Similarity(s, "Шевченко")
		for _, std := range names.Standards() {
			_ = names.Transliterate(s, std)
		}
	})
}

func ExampleKey() {
	for _, s := range []string{"Хрущёв", "Khrushchev", "Khrushchëv", "Xrushhyov", "Hrushchyov"} {
		fmt.Println(names.Key(s))
	}
	// Output:
	// grushchev
	// grushchev
	// grushchev
	// grushchev
	// grushchev
}
