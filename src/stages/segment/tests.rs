//! Unit tests of `segment`.
use super::*;

fn texts(text: &str, lang: &str) -> Vec<String> {
    split_sentences(text, lang)
        .into_iter()
        .map(|s| s.text)
        .collect()
}

fn assert_split(lang: &str, expected: &[&str]) {
    let text = expected.join(" ");
    assert_eq!(texts(&text, lang), expected, "lang {lang}");
}

#[test]
fn english_abbreviations() {
    assert_split(
        "en",
        &[
            "Mr. Smith met Dr. Jones at 5 p.m. on Jan. 5 in the U.S. capital.",
            "They talked.",
        ],
    );
    assert_split(
        "en",
        &[
            "Use tools, e.g. hammers, i.e. heavy ones, vs. nails.",
            "No. 5 won.",
        ],
    );
    assert_split("en", &["He moved to the U.S.", "The move was hard."]);
    assert_split(
        "en",
        &[
            "Apple Inc. Chief Executive Tim Cook spoke.",
            "He said no.",
            "Then he left.",
        ],
    );
    assert_split(
        "en",
        &[
            "Blues legend B.B. King was hospitalized.",
            "B.B. is short for Blues Boy.",
        ],
    );
}

#[test]
fn initials() {
    assert_split("en", &["J. F. Kennedy met John F. Dulles.", "They spoke."]);
    assert_split("en", &["It was Plan B.", "The plan failed."]);
    assert_split("pl", &["Spotkał J. W. Kowalskiego.", "Rozmawiali."]);
}

#[test]
fn polish_abbreviations() {
    assert_split(
        "pl",
        &[
            "W 1951 r. Stany Zjednoczone podpisały traktat z Japonią.",
            "To był przełom.",
        ],
    );
    assert_split("pl", &[
        "Dr. Nowak i prof. Kowalski, m.in. eksperci tzw. grupy, przyszli ok. godz. 12 na ul. Długą.",
        "Było np. 5 tys. osób i 2 mln zł.",
        "Koniec.",
    ]);
    assert_split(
        "pl",
        &["Urodził się w 1951 r.", "W tym samym roku wyjechał."],
    );
    assert_split(
        "pl",
        &["Budżet na 2026 r.", "– Tajne znaczy tajne – powiedział."],
    );
}

#[test]
fn german_abbreviations_and_ordinals() {
    assert_split(
        "de",
        &[
            "Er kam z.B. mit Dr. Müller bzw. Frau Meier usw. nach Hause.",
            "Am 15. Dezember 2023 war es ca. 5 Grad kalt, vgl. Nr. 3.",
            "Im 19. Jahrhundert gab es z. B. noch keine Autos.",
            "Der Preis stieg auf 15.",
            "Das war viel.",
        ],
    );
}

#[test]
fn french_spanish_russian() {
    assert_split(
        "fr",
        &[
            "M. Dupont et Mme Durand sont venus, p. ex. hier.",
            "Ils sont partis.",
        ],
    );
    assert_split(
        "fr",
        &[
            "Il a dit : « Je viens. »",
            "Puis il est parti !",
            "Vraiment ?",
            "Oui.",
        ],
    );
    assert_split(
        "es",
        &[
            "El Sr. García y la Sra. López viajaron a EE.UU. ayer.",
            "¿Por qué?",
            "No lo sé.",
        ],
    );
    assert_split("es", &["Viven en EE.UU.", "El viaje fue largo."]);
    assert_split(
        "ru",
        &[
            "Это было в 1951 г. Соединённые Штаты, т.е. США, подписали договор.",
            "Он жил на ул. Ленина, им. Пушкина и т.д.",
            "Потом уехал.",
        ],
    );
}

#[test]
fn numbers_dates_ellipsis() {
    assert_split(
        "pl",
        &[
            "Instytut Boyma 15.12.2023 podał, że cena wynosi 1.000 zł.",
            "Wzrost o 3.5 proc. rocznie.",
        ],
    );
    assert_split(
        "en",
        &[
            "Growth was 3.5 percent in 2023.",
            "Wait... what?",
            "Really…",
            "Yes.",
        ],
    );
    assert_split("en", &["It rose... and fell.", "Done."]);
}

#[test]
fn quotes_and_brackets() {
    assert_split(
        "en",
        &[
            "He said \"stop.\"",
            "Then he left (quickly.)",
            "Why?!",
            "“Is it over?” asked John.",
            "It is.",
        ],
    );
    assert_split("pl", &["Powiedział: „Koniec.”", "Wyszedł."]);
    assert_split("de", &["Er sagte: „Schluss.“", "Dann ging er."]);
    assert_split("ru", &["Он сказал: «Всё.»", "И ушёл."]);
    assert_split("en", &["The ’50s were calm.", "The ‘sixties’ were not."]);
}

#[test]
fn headings_lists_and_lines() {
    let text = "An “Asian NATO”: Chances and perspectives\n\nThe invasion reinvigorated NATO. Can it last?\n\n\
                Instytut Boyma 15.12.2023\n\n*\n\n—\n\nFirst item\nSecond item\n- third item\n1. fourth item";
    assert_eq!(
        texts(text, "en"),
        [
            "An “Asian NATO”: Chances and perspectives",
            "The invasion reinvigorated NATO.",
            "Can it last?",
            "Instytut Boyma 15.12.2023",
            "First item",
            "Second item",
            "- third item",
            "1. fourth item",
        ]
    );
    // Hard-wrapped prose stays one sentence.
    let wrapped = "This is a long line of prose that was wrapped by an editor at\nSeventy columns and continues here.";
    assert_eq!(texts(wrapped, "en").len(), 1);
    assert_eq!(texts("short line\nlowercase continuation.", "en").len(), 1);
}

#[test]
fn paragraphs_never_merge() {
    let s = split_sentences("No punctuation here\n\nnext paragraph starts lower", "en");
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].paragraph, s[1].paragraph), (0, 1));
}

#[test]
fn offsets_point_at_trimmed_text() {
    let text = "  \u{FEFF}Hello there.   How are you?\n\n  \n\t  Fine!  ";
    let s = split_sentences(text, "en");
    assert_eq!(s.len(), 3);
    for x in &s {
        assert_eq!(&text[x.start..x.end], x.text);
    }
    assert_eq!(s[0].text, "Hello there.");
    assert_eq!((s[2].text.as_str(), s[2].paragraph), ("Fine!", 1));
}

#[test]
fn cjk_and_rtl() {
    assert_eq!(
        texts("今天天气很好。我们去公园吧！你呢？好", "und"),
        ["今天天气很好。", "我们去公园吧！", "你呢？"]
    );
    assert_eq!(
        texts("「行く。」彼は言った。", "ja"),
        ["「行く。」", "彼は言った。"]
    );
    assert_eq!(
        texts("مرحبا بالعالم. هل أنت بخير؟ نعم.", "ar"),
        ["مرحبا بالعالم.", "هل أنت بخير؟", "نعم."]
    );
}

#[test]
fn degenerate_inputs() {
    assert!(split_sentences("", "en").is_empty());
    assert!(split_sentences(" \n\n ", "en").is_empty());
    assert!(split_sentences("* . — !", "en").is_empty());
    assert_eq!(texts("A. b", "xx"), ["A. b"]);
    let word = "x".repeat(100_000);
    assert_eq!(split_sentences(&word, "en").len(), 1);
    let dots = format!("{}. Next", ".a".repeat(50_000));
    assert!(!split_sentences(&dots, "en").is_empty());
}

#[test]
fn a_large_input_is_split_whole() {
    // How its time grows is measured in benches/stages.rs (large_input).
    let text = "Dr. Smith said e.g. this. Then U.S. officials left! Why? ".repeat(100_000); // ~5.7 MB
    let s = split_sentences(&text, "en");
    assert_eq!(s.len(), 300_000);
}

#[test]
fn seed_page() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/seed/boym-institute-asian-nato-page.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping seed_page: {} not found", path.display());
        return;
    };
    let s = split_sentences(&text, "en");
    let find = |needle: &str| {
        s.iter()
            .find(|x| x.text.starts_with(needle))
            .map(|x| x.text.as_str())
    };
    assert_eq!(
        find("An “Asian NATO”"),
        Some("An “Asian NATO”: Chances and perspectives")
    );
    assert_eq!(find("Instytut Boyma"), Some("Instytut Boyma 15.12.2023"));
    assert_eq!(
        find("Why SEATO"),
        Some("Why SEATO and ANZUS did not survive?")
    );
    assert_eq!(find("Quad 2.0"), Some("Quad 2.0"));
    assert_eq!(find("The assumption presented by Dulles"), Some("The assumption presented by Dulles was that allies preferred to see Japan “kept down” by the US."));
    assert_eq!(
        find("The course will be taught"),
        Some("The course will be taught via interactive workshops, employing the Adam Institute’s signature “Betzavta – the Adam Institute’s Facilitation Method“, taught by its creator, Dr. Uki Maroshek-Klarman.")
    );
    assert_eq!(
        find("Ms. Łucja"),
        Some(
            "Ms. Łucja Drabczak - A Polish woman born in Harbin, she spent her childhood in China."
        )
    );
    assert!(s
        .iter()
        .all(|x| x.text.chars().count() > 1 && text[x.start..x.end] == x.text));
    assert!(s
        .windows(2)
        .all(|w| w[0].end <= w[1].start && w[0].paragraph <= w[1].paragraph));
}
