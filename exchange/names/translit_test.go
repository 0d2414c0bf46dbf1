package names_test

import (
	"fmt"
	"testing"

	"github.com/guarantor/guarantor/exchange/names"
)

// The expected values below were derived by hand from the letter tables in
// the package documentation (DOMAIN.md §6).
func TestTransliterate(t *testing.T) {
	tests := []struct {
		in   string
		std  names.Standard
		want string
	}{
		// Ukrainian, KMU-2010.
		{"Шевченко", names.KMU2010, "Shevchenko"},
		{"Згурський", names.KMU2010, "Zghurskyi"},  // зг → zgh, ь dropped, й → i inside a word
		{"Юрій", names.KMU2010, "Yurii"},           // ю → yu at the start
		{"Ярослава", names.KMU2010, "Yaroslava"},   // я → ya at the start
		{"Щербак", names.KMU2010, "Shcherbak"},     // щ → shch
		{"Григорій", names.KMU2010, "Hryhorii"},    // г → h, и → y
		{"Мар'яна", names.KMU2010, "Mariana"},      // apostrophe dropped, я → ia inside
		{"Їжакевич", names.KMU2010, "Yizhakevych"}, // ї → yi at the start
		{"Київ", names.KMU2010, "Kyiv"},            // ї → i inside
		{"Єнакієве", names.KMU2010, "Yenakiieve"},  // є → ye / ie
		{"Йосип", names.KMU2010, "Yosyp"},          // й → y at the start
		{"Розгон", names.KMU2010, "Rozghon"},       // зг inside a word
		{"Ґалаґан", names.KMU2010, "Galagan"},      // ґ → g
		{"Хмельницький", names.KMU2010, "Khmelnytskyi"},
		{"Андрій Щур", names.KMU2010, "Andrii Shchur"}, // each word starts afresh
		{"ЩУР", names.KMU2010, "SHCHUR"},
		{"Юлія-Ярина", names.KMU2010, "Yuliia-Yaryna"},

		// Russian, ICAO 9303.
		{"Хрущёв", names.ICAO9303, "Khrushchev"},    // ё → e
		{"Подъячев", names.ICAO9303, "Podieiachev"}, // ъ → ie, я → ia
		{"Евгений", names.ICAO9303, "Evgenii"},      // й → i
		{"Юрьев", names.ICAO9303, "Iurev"},          // ь dropped, ю → iu
		{"Цыганков", names.ICAO9303, "Tsygankov"},   // ы → y
		{"Эдуард", names.ICAO9303, "Eduard"},        // э → e
		{"Григорій", names.ICAO9303, "Grygorii"},    // Ukrainian text: и → y

		// Russian, BGN/PCGN.
		{"Хрущёв", names.BGNPCGN, "Khrushchëv"},   // ё after a consonant → ë
		{"Подъячев", names.BGNPCGN, "Pod”yachev"}, // ъ → ”
		{"Евгений", names.BGNPCGN, "Yevgeniy"},    // е at the start → ye, й → y
		{"Алексеев", names.BGNPCGN, "Alekseyev"},  // е after a vowel → ye
		{"Соловьёв", names.BGNPCGN, "Solov’yëv"},  // ь → ’, ё after ь → yë
		{"Ёлкин", names.BGNPCGN, "Yëlkin"},        // ё at the start → yë

		// Russian, GOST 7.79-B.
		{"Хрущёв", names.GOST779B, "Xrushhyov"},        // х → x, щ → shh, ё → yo
		{"Подъячев", names.GOST779B, "Pod``yachev"},    // ъ → ``
		{"Евгений", names.GOST779B, "Evgenij"},         // й → j
		{"Цой", names.GOST779B, "Czoj"},                // ц → cz
		{"Цыганков", names.GOST779B, "Cy`gankov"},      // ц before y → c; ы → y`
		{"Лицей", names.GOST779B, "Licej"},             // ц before e → c
		{"Ильич", names.GOST779B, "Il`ich"},            // ь → `
		{"Эдуард", names.GOST779B, "E`duard"},          // э → e`
		{"Кривий Ріг", names.GOST779B, "Kry`vy`j Rig"}, // Ukrainian text: и → y`
		{"Кривой Рог", names.GOST779B, "Krivoj Rog"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.std, tt.in), func(t *testing.T) {
			if got := names.Transliterate(tt.in, tt.std); got != tt.want {
				t.Errorf("Transliterate(%q, %v) = %q, want %q", tt.in, tt.std, got, tt.want)
			}
		})
	}
}

func TestTransliteratePassesThrough(t *testing.T) {
	for _, std := range names.Standards() {
		for _, in := range []string{"", "Ivan Petrenko", "1985-03-04", "«Щур»"} {
			got := names.Transliterate(in, std)
			if in == "«Щур»" {
				continue // covered below
			}
			if got != in {
				t.Errorf("Transliterate(%q, %v) = %q, want it unchanged", in, std, got)
			}
		}
	}
	if got, want := names.Transliterate("«Щур»", names.KMU2010), "«Shchur»"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := names.Transliterate("Щур", names.Standard(0)), "Щур"; got != want {
		t.Errorf("unknown standard: got %q, want %q", got, want)
	}
}

func ExampleTransliterate() {
	for _, std := range names.Standards() {
		fmt.Printf("%-12s %s\n", std, names.Transliterate("Григорій Згурський", std))
	}
	// Output:
	// KMU-2010     Hryhorii Zghurskyi
	// ICAO 9303    Grygorii Zgurskyi
	// BGN/PCGN     Grigoriy Zgurs’kiy
	// GOST 7.79-B  Gry`gorij Zgurs`ky`j
}
