package names

import "strings"

// givenForms lists the Ukrainian and Russian forms of common given names
// whose keys differ; the first form of each group is the canonical one.
// Forms whose keys already coincide (Іван, Иван; Юрій, Юрий; Артем,
// Артём) need no entry.
var givenForms = [][]string{
	{"Олександр", "Александр"},
	{"Олександра", "Александра"},
	{"Олексій", "Алексей"},
	{"Микола", "Николай"},
	{"Дмитро", "Дмитрий"},
	{"Сергій", "Сергей"},
	{"Андрій", "Андрей"},
	{"Євген", "Евгений"},
	{"Михайло", "Михаил"},
	{"Петро", "Пётр", "Петр"},
	{"Павло", "Павел"},
	{"Василь", "Василий"},
	{"Володимир", "Владимир"},
	{"Федір", "Фёдор"},
	{"Костянтин", "Константин"},
	{"Кирило", "Кирилл"},
	{"Данило", "Даниил"},
	{"Олена", "Елена"},
	{"Ганна", "Анна"},
	{"Тетяна", "Татьяна"},
	{"Катерина", "Екатерина"},
	{"Світлана", "Светлана"},
	{"Надія", "Надежда"},
	{"Віра", "Вера"},
	{"Гнат", "Игнат"},
	{"Тимофій", "Тимофей"},
	{"Матвій", "Матвей"},
	{"Євгенія", "Евгения"},
	{"Ілля", "Илья"},
	{"Микита", "Никита"},
	{"Гліб", "Глеб"},
	{"Христина", "Кристина"},
}

// givenCanon maps the key of each listed form to the canonical key of its
// group.
var givenCanon = func() map[string]string {
	m := make(map[string]string)
	for _, g := range givenForms {
		canon := Key(g[0])
		for _, f := range g {
			m[Key(f)] = canon
		}
	}
	return m
}()

// GivenKey returns Key(s) with each word that is a Ukrainian or Russian
// form of a common given name replaced by the canonical key of that name,
// so that Микола, Mykola and Николай share a key. GivenKey is idempotent.
func GivenKey(s string) string {
	return GivenKeyOf(Key(s))
}

// GivenKeyOf is GivenKey for a key already made by Key.
func GivenKeyOf(key string) string {
	if c, ok := givenCanon[key]; ok {
		return c
	}
	if !strings.Contains(key, " ") {
		return key
	}
	ws := strings.Fields(key)
	for i, w := range ws {
		if c, ok := givenCanon[w]; ok {
			ws[i] = c
		}
	}
	return strings.Join(ws, " ")
}
