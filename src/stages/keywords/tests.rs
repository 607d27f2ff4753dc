//! Unit tests of `keywords`.
use super::*;

fn opts() -> KeywordOptions {
    KeywordOptions {
        max_candidates: 10_000,
        ..KeywordOptions::default()
    }
}

fn surfaces(sentences: &[&str], lang: &str) -> Vec<String> {
    extract_candidates(sentences, lang, &opts())
        .into_iter()
        .map(|c| c.surface)
        .collect()
}

fn has(list: &[String], s: &str) -> bool {
    list.iter().any(|x| x == s)
}

#[test]
fn occurrences_are_whole_words_only() {
    let texts = [
        "Linia tramwajowa i tramwaje.",
        "Nowa linia tramwajowa, linia",
    ];
    let found = occurrences("linia", texts.iter().copied());
    // "Linia" (capital) is another surface form; "linia" twice in the second text.
    assert_eq!(found, vec![(texts[1], 5..10), (texts[1], 23..28)],);
    assert!(occurrences("tram", texts.iter().copied()).is_empty());
    let greek = ["Ο ΝΑΤΟ και η Ιαπωνία"];
    assert_eq!(occurrences("ΝΑΤΟ", greek.iter().copied()).len(), 1);
    assert!(occurrences("", greek.iter().copied()).is_empty());
}

#[test]
fn polish_adjectives_alone_and_impersonal_verbs_are_not_keywords() {
    let pl = surfaces(
        &["Przedstawiono wyniki pomiarów akustycznych w nowej hali Kowalskiego."],
        "pl",
    );
    assert!(
        has(&pl, "pomiarów akustycznych"),
        "an adjective ends a phrase: {pl:?}"
    );
    assert!(has(&pl, "wyniki pomiarów"), "{pl:?}");
    for alone in ["akustycznych", "nowej", "Przedstawiono"] {
        assert!(!has(&pl, alone), "{alone}: {pl:?}");
    }
    assert!(pl.iter().all(|c| !c.contains("Przedstawiono")), "{pl:?}");
    // A capitalised form may be a name.
    assert!(has(&pl, "Kowalskiego"), "{pl:?}");
}

#[test]
fn polish_infinitives_and_spelt_out_numbers_are_not_keywords() {
    let pl = surfaces(
        &[
            "Inwestycja ma kosztować ok. 640 mln zł i zacząć się za dwudziestu dni.",
            "Sieć tramwajowa ma piętnaście linii, a wartość taboru rośnie.",
        ],
        "pl",
    );
    for word in ["kosztować", "zacząć", "dwudziestu", "piętnaście"] {
        assert!(pl.iter().all(|c| !c.contains(word)), "{word}: {pl:?}");
    }
    // Nouns ending in "-ć" stay.
    for noun in ["Sieć tramwajowa", "wartość taboru", "Inwestycja"] {
        assert!(has(&pl, noun), "{noun}: {pl:?}");
    }
}

#[test]
fn weekdays_and_months_are_not_keywords() {
    let pl = surfaces(
        &["W czwartek rada przyjęła plan budowy linii tramwajowej, a w środę 3 marca wojewoda."],
        "pl",
    );
    assert!(has(&pl, "plan budowy"), "{pl:?}");
    assert!(has(&pl, "linii tramwajowej"), "{pl:?}");
    // Inflected forms too: "środę" (accusative of "środa"), "marca" (genitive of "marzec").
    for w in ["czwartek", "środę", "marca"] {
        assert!(
            pl.iter().all(|c| !c.to_lowercase().contains(w)),
            "{w}: {pl:?}"
        );
    }
    let de = surfaces(&["Am Montag eröffnete der Radschnellweg im Januar."], "de");
    assert!(has(&de, "Radschnellweg"), "{de:?}");
    assert!(!has(&de, "Montag") && !has(&de, "Januar"), "{de:?}");
    let fr = surfaces(&["Le marché couvert rouvre ses portes samedi matin."], "fr");
    assert!(has(&fr, "marché couvert"), "{fr:?}");
    assert!(fr.iter().all(|c| !c.contains("samedi")), "{fr:?}");
    let en = surfaces(&["On Tuesday the library opened in Millbrook."], "en");
    assert!(!has(&en, "Tuesday") && has(&en, "library"), "{en:?}");
}

#[test]
fn never_starts_or_ends_with_stopword() {
    let cands = extract_candidates(
        &["The central bank of England raised the interest rate in the spring."],
        "en",
        &opts(),
    );
    let stop = stopwords("en");
    for c in &cands {
        let words: Vec<&str> = c.surface.split(' ').collect();
        assert!(!stop.contains(&words[0].to_lowercase()), "{}", c.surface);
        assert!(
            !stop.contains(&words[words.len() - 1].to_lowercase()),
            "{}",
            c.surface
        );
        assert!(words.len() <= 3);
    }
    let s: Vec<String> = cands.into_iter().map(|c| c.surface).collect();
    assert!(has(&s, "central bank"));
    assert!(has(&s, "interest rate"));
    assert!(
        !has(&s, "bank of England"),
        "inner stopwords are off by default"
    );
    let with_inner = KeywordOptions {
        inner_stopwords: true,
        ..opts()
    };
    let s: Vec<String> = extract_candidates(&["The Bank of England acted."], "en", &with_inner)
        .into_iter()
        .map(|c| c.surface)
        .collect();
    assert!(has(&s, "Bank of England"));
}

#[test]
fn never_crosses_punctuation_or_sentences() {
    let s = surfaces(
        &[
            "Oil prices, gold reserves: (market turmoil) \"trade war\" - steel tariffs",
            "Global markets fell.",
        ],
        "en",
    );
    for bad in [
        "prices gold",
        "reserves market",
        "turmoil trade",
        "war steel",
        "tariffs Global",
    ] {
        assert!(!s.iter().any(|x| x.contains(bad)), "{bad} in {s:?}");
    }
    for good in [
        "Oil prices",
        "gold reserves",
        "market turmoil",
        "trade war",
        "steel tariffs",
        "Global markets",
    ] {
        assert!(has(&s, good), "{good} missing from {s:?}");
    }
}

#[test]
fn token_shape_rules() {
    let s = surfaces(
        &["In 2020 the COVID-19 pandemic hit the Indo-Pacific region, x y 42 units and Fincher's remake."],
        "en",
    );
    assert!(has(&s, "COVID-19 pandemic"), "{s:?}");
    assert!(has(&s, "Indo-Pacific region"), "{s:?}");
    assert!(has(&s, "Fincher remake"), "possessive stripped: {s:?}");
    assert!(
        !s.iter().any(|x| x.contains("2020") || x.contains("42")),
        "{s:?}"
    );
    assert!(
        !s.iter()
            .any(|x| x.split(' ').any(|w| w.chars().count() < 2)),
        "{s:?}"
    );
    // number-only and 1-character tokens break phrases
    assert!(has(&s, "units"), "{s:?}");
}

#[test]
fn acronyms_are_not_stopwords() {
    let s = surfaces(&["The US imposed sanctions on us."], "en");
    assert!(has(&s, "US"), "{s:?}");
    assert!(!has(&s, "us"), "{s:?}");
}

#[test]
fn french_elision() {
    let with_inner = KeywordOptions {
        inner_stopwords: true,
        ..opts()
    };
    let s: Vec<String> = extract_candidates(
        &["Le ministre de l'Économie a parlé de l'inflation."],
        "fr",
        &with_inner,
    )
    .into_iter()
    .map(|c| c.surface)
    .collect();
    assert!(has(&s, "inflation"), "{s:?}");
    assert!(has(&s, "Économie"), "{s:?}");
    assert!(!s.iter().any(|x| x.starts_with("l'")), "{s:?}");
}

#[test]
fn french_noun_phrases_keep_their_de() {
    let s = surfaces(
        &[
            "La découverte du boson de Higgs relance le débat sur la liberté de la presse.",
            "Les centres de détention et l'analyse de l'ADN.",
        ],
        "fr",
    );
    for phrase in [
        "boson de Higgs",
        "liberté de la presse",
        "centres de détention",
        "analyse de l'ADN",
        "découverte du boson",
    ] {
        assert!(has(&s, phrase), "{phrase}: {s:?}");
    }
    // The connector never ends a phrase, nor starts one, and "la" joins only after "de".
    assert!(
        !s.iter().any(|x| x.ends_with(" de") || x.starts_with("de ")),
        "{s:?}"
    );
    assert!(!has(&s, "débat sur la liberté"), "{s:?}");
    // Three content words at most, as for phrases without connectors.
    assert!(has(&s, "découverte du boson de Higgs"), "{s:?}");
    assert!(!has(&s, "découverte du boson de Higgs relance"), "{s:?}");
    // Other languages are unchanged: English "of" does not join without `inner_stopwords`.
    let en = surfaces(&["The Bank of England acted."], "en");
    assert!(!has(&en, "Bank of England"), "{en:?}");
}

fn key_of(sentences: &[&str], lang: &str, surface_lower: &str) -> (String, usize) {
    let c = extract_candidates(sentences, lang, &opts());
    let hits: Vec<&Candidate> = c
        .iter()
        .filter(|c| c.surface.to_lowercase() == surface_lower)
        .collect();
    assert_eq!(hits.len(), 1, "{surface_lower} in {c:?}");
    (hits[0].key.clone(), hits[0].count)
}

#[test]
fn folding_english() {
    let c = extract_candidates(
        &[
            "New Sanctions were announced.",
            "The sanction targets banks.",
            "SANCTIONS work, Sanction fails.",
        ],
        "en",
        &opts(),
    );
    let s: Vec<&Candidate> = c.iter().filter(|c| c.key == "sanction").collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].count, 4);
    assert_eq!(s[0].first_position, 1);
    assert_eq!(
        s[0].surface, "Sanctions",
        "most frequent form, first seen wins ties"
    );
}

#[test]
fn folding_polish() {
    let forms = [
        "inflacja",
        "inflacji",
        "inflację",
        "inflacją",
        "inflacje",
        "inflacjami",
        "inflacjach",
    ];
    let stems: HashSet<String> = forms.iter().map(|w| stem_polish(w)).collect();
    assert_eq!(stems.len(), 1, "{stems:?}");
    for group in [
        &[
            "rząd", "rządu", "rządem", "rządowi", "rządy", "rządów", "rządach",
        ][..],
        &[
            "nowy", "nowa", "nowe", "nowego", "nowej", "nowym", "nowych", "nowymi", "nową",
        ],
        &["wybory", "wyborów", "wyborach", "wyborami", "wyborom"],
        &[
            "spektroskopia",
            "spektroskopii",
            "spektroskopią",
            "spektroskopię",
        ],
        &[
            "impedancyjna",
            "impedancyjnej",
            "impedancyjną",
            "impedancyjny",
            "impedancyjnych",
        ],
        &["wartość", "wartości", "wartościami", "wartościach"],
        // A title's "linia tramwajowa" and the body's "linii tramwajowej" are one phrase.
        &[
            "tramwajowa",
            "tramwajowej",
            "tramwajowy",
            "tramwajowym",
            "tramwajowych",
            "tramwajową",
            "tramwajowego",
        ],
        &["sankcja", "sankcje", "sankcji", "sankcjami", "sankcjom"],
    ] {
        let stems: HashSet<String> = group.iter().map(|w| stem_polish(w)).collect();
        assert_eq!(stems.len(), 1, "{group:?} -> {stems:?}");
    }
    // short words are left alone
    assert_eq!(stem_polish("dom"), "dom");
    let c = extract_candidates(
        &[
            "Wysoka inflacja martwi rząd.",
            "Wzrost inflacji przyspieszył.",
        ],
        "pl",
        &opts(),
    );
    let inf: Vec<&Candidate> = c
        .iter()
        .filter(|c| c.words == 1 && c.key == stem_polish("inflacja"))
        .collect();
    assert_eq!(inf.len(), 1, "{c:?}");
    assert_eq!(inf[0].count, 2);
    assert_eq!(inf[0].surface, "inflacja");
}

#[test]
fn polish_endings_are_tried_longest_first() {
    // The stemmer takes the first ending that fits: a shorter one listed first would cut
    // "wartościami" to "wartości" instead of "wart".
    let lengths: Vec<usize> = PL_ENDINGS.iter().map(|e| e.chars().count()).collect();
    assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{PL_ENDINGS:?}");
    assert_eq!(stem_polish("wartościami"), stem_polish("wartość"));
}

#[test]
fn folding_german_and_russian() {
    let (k1, n) = key_of(
        &["Die Sanktionen wirken.", "Eine Sanktion folgt."],
        "de",
        "sanktionen",
    );
    assert_eq!(n, 2);
    assert_eq!(k1, "sanktion");
    let (k2, n) = key_of(
        &["Инфляция растёт.", "Уровень инфляции высок."],
        "ru",
        "инфляция",
    );
    assert_eq!(n, 2, "{k2}");
}

#[test]
fn stopword_lists_cover_required_languages() {
    for lang in ["en", "pl", "de", "fr", "es", "ru", "pl-PL"] {
        assert!(stopwords(lang).len() > 100, "{lang}");
    }
    assert!(stopwords("pl").contains("się"));
    // unknown language: no stopwords, shape filter only, no panic
    assert!(stopwords("xx").is_empty());
    let s = surfaces(&["Kala ni 5 a kubwa, mji mkuu."], "xx");
    assert!(has(&s, "Kala ni"), "{s:?}");
    assert!(
        !s.iter()
            .any(|x| x.contains('5') || x.split(' ').any(|w| w == "a")),
        "{s:?}"
    );
}

#[test]
fn deterministic_and_capped() {
    let text = [
        "Central banks raised interest rates as inflation climbed.",
        "Inflation worries hit markets; central banks reacted.",
        "Bond markets and stock markets fell.",
    ];
    let a = extract_candidates(&text, "en", &KeywordOptions::default());
    for _ in 0..5 {
        assert_eq!(
            a,
            extract_candidates(&text, "en", &KeywordOptions::default())
        );
    }
    let capped = extract_candidates(
        &text,
        "en",
        &KeywordOptions {
            max_candidates: 3,
            ..KeywordOptions::default()
        },
    );
    assert_eq!(capped.len(), 3);
    assert_eq!(&capped[..], &a[..3]);
}

#[test]
fn abbreviations_and_german_non_nouns_are_not_keywords() {
    let s = surfaces(
        &["Oberbürgermeisterin Dr. Anna Weber eröffnete den neuen Radweg für 12 Mio. Euro."],
        "de",
    );
    assert!(
        !s.iter().any(|x| x.contains("Dr") || x.contains("Mio")),
        "{s:?}"
    );
    assert!(has(&s, "Anna Weber"), "{s:?}");
    assert!(has(&s, "Radweg"), "{s:?}");
    assert!(!s.iter().any(|x| x.contains("eröffnete")), "{s:?}");
    // A sentence-final period is no abbreviation.
    assert!(has(&surfaces(&["Prices rose in Poland."], "en"), "Poland"));
}

#[test]
fn modifiers_are_not_heads_in_modifier_first_languages() {
    let text = [
        "A neural network is trained for edge detection.",
        "Neural networks are used.",
    ];
    let c = extract_candidates(&text, "en", &opts());
    let ratio = |s: &str| c.iter().find(|c| c.surface == s).map(|c| c.head_ratio);
    assert_eq!(ratio("neural"), Some(0.0), "{c:?}");
    assert_eq!(ratio("neural network"), Some(1.0));
    assert_eq!(ratio("edge detection"), Some(1.0));
    // French puts adjectives after the noun: no head signal there.
    let c = extract_candidates(&["Le réseau neuronal apprend."], "fr", &opts());
    assert!(c.iter().all(|c| c.head_ratio == 1.0), "{c:?}");
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    v.iter().map(|x| x / n).collect()
}

fn cand(s: &str, pos: usize) -> Candidate {
    Candidate {
        surface: s.into(),
        key: s.to_lowercase(),
        count: 1,
        first_position: pos,
        last_position: pos,
        words: 1,
        head_ratio: 1.0,
        after_number: 0,
    }
}

#[test]
fn selection_relevance_mmr_and_ties() {
    let doc = unit(&[1.0, 1.0, 0.0]);
    let cands = vec![cand("a1", 0), cand("a2", 0), cand("b", 0), cand("c", 0)];
    let vecs = vec![
        unit(&[1.0, 0.2, 0.0]),
        unit(&[1.0, 0.21, 0.0]),
        unit(&[0.2, 1.0, 0.0]),
        unit(&[0.0, 0.0, 1.0]),
    ];
    let plain = KeywordOptions {
        top_n: 3,
        diversity: 0.0,
        position_weight: 0.0,
        frequency_weight: 0.0,
        head_weight: 0.0,
        ..KeywordOptions::default()
    };
    let k = select_keywords(&cands, &vecs, &doc, &plain);
    let t: Vec<&str> = k.iter().map(|k| k.text.as_str()).collect();
    assert_eq!(t, ["a2", "a1", "b"]);
    assert_eq!(
        k[0].score,
        (f64::from(dot(&vecs[1], &doc)) * 10_000.0).round() / 10_000.0
    );
    let diverse = KeywordOptions {
        diversity: 0.5,
        ..plain.clone()
    };
    let t: Vec<String> = select_keywords(&cands, &vecs, &doc, &diverse)
        .into_iter()
        .map(|k| k.text)
        .collect();
    assert_eq!(
        t[..2],
        ["a2".to_string(), "b".to_string()],
        "near-duplicate a1 skipped"
    );
    // exact ties: earlier candidate wins
    let same = vec![vecs[0].clone(), vecs[0].clone()];
    let k = select_keywords(&cands[..2], &same, &doc, &plain);
    assert_eq!(k[0].text, "a1");
    // position prior breaks ties toward earlier mentions
    let pos = vec![cand("late", 500), cand("early", 0)];
    let k = select_keywords(&pos, &same, &doc, &KeywordOptions::default());
    assert_eq!(k[0].text, "early");
    assert!(select_keywords(&[], &[], &doc, &plain).is_empty());
}

#[test]
fn a_piece_of_a_name_goes_once_the_name_is_a_keyword() {
    let sentences = [
        "Twitter moved to San Francisco.",
        "San Francisco gave Twitter a tax break.",
        "San Diego lost Twitter and its tax revenue.",
    ];
    let cands = extract_candidates(&sentences, "en", &opts());
    // Relevance in this order, then the rest; distinct vectors, so only the rule decides.
    let order = [
        "San Francisco",
        "Francisco",
        "San",
        "tax",
        "tax break",
        "Twitter",
    ];
    let rel: Vec<f32> = cands
        .iter()
        .map(|c| {
            order
                .iter()
                .position(|o| *o == c.surface)
                .map_or(0.0, |p| 10.0 - p as f32)
        })
        .collect();
    let vecs: Vec<Vec<f32>> = (0..cands.len())
        .map(|i| (0..cands.len()).map(|j| f32::from(i == j)).collect())
        .collect();
    let options = KeywordOptions {
        top_n: 5,
        diversity: 0.0,
        ..KeywordOptions::default()
    };
    let picked: Vec<String> = select_by_relevance(&cands, &vecs, &rel, &rel, &options, None)
        .into_iter()
        .map(|k| k.text)
        .collect();
    // "Francisco" is only ever said in "San Francisco"; "San" also starts "San Diego"; a lower-case
    // word inside a chosen phrase ("tax" in "tax break") is the scorer's to judge.
    assert_eq!(
        picked,
        ["San Francisco", "San", "tax", "tax break", "Twitter"]
    );
}

#[test]
fn a_unit_after_a_number_is_counted_as_such() {
    let c = extract_candidates(
        &[
            "Die Strecke ist 7,4 Kilometer lang und kostet 30 Millionen Euro.",
            "Die Strecke soll 2028 fertig sein.",
        ],
        "de",
        &opts(),
    );
    let get = |s: &str| {
        c.iter()
            .find(|c| c.surface == s)
            .unwrap_or_else(|| panic!("{s}: {c:?}"))
    };
    assert_eq!(get("Kilometer").after_number, 1);
    assert_eq!(get("Millionen Euro").after_number, 1);
    assert_eq!(get("Strecke").count, 2);
    assert_eq!(get("Strecke").after_number, 0);
}

/// A lexicon of these nouns, verbs and adjectives (no adverbs).
fn lexicon(nouns: &[&str], verbs: &[&str], adjectives: &[&str]) -> Lexicon {
    use crate::model::word_classes::SortedLines;
    let list = |words: &[&str]| SortedLines::new(words.iter().copied());
    Lexicon::Forms(vec![
        (WordClass::Noun, list(nouns)),
        (WordClass::Verb, list(verbs)),
        (WordClass::Adjective, list(adjectives)),
        (WordClass::Adverb, list(&[])),
    ])
}

#[test]
fn lone_adjectives_and_verbs_and_polish_phrases_ending_in_a_verb_are_misfits() {
    let polish = lexicon(
        &["autobusy", "rada", "miasta", "Kraków"],
        &[
            "przyjęła",
            "przepełnione",
            "zadowoleni",
            "nagniatanie",
            "zmienia",
            "znaleźć",
            "znaleźcie",
            "zamknięciem",
            "zamknięcie",
            "zamknięcia",
        ],
        &["zadowoleni", "nowe"],
    );
    let c = extract_candidates(
        &[
            "Pasażerowie są zadowoleni, bo autobusy są przepełnione.",
            "Rada miasta przyjęła plan, a nagniatanie trwa. Wszystko się zmienia.",
            "Trzeba znaleźć most, bo zamknięcia nikt nie planował.",
            "Ruch bez zamknięć.",
        ],
        "pl",
        &opts(),
    );
    let misfits = word_class_misfits(&c, &polish, "pl");
    let judged = |s: &str| {
        let i = c
            .iter()
            .position(|c| c.surface == s)
            .unwrap_or_else(|| panic!("{s}: {c:?}"));
        misfits[i]
    };
    // Lone adjective and participle; a phrase ending in a finite verb.
    assert!(judged("zadowoleni"));
    assert!(judged("przepełnione"));
    assert!(judged("Rada miasta przyjęła"));
    // A finite verb that only looks like a gerund ("-nia"): no "zmienie" in the verb list.
    assert!(judged("zmienia"));
    // An infinitive the stopwords miss, though its stem + "cie" is in the verb list (a finite form).
    assert!(judged("znaleźć"));
    // Nouns, a gerund (filed under verbs), a capitalised word, a word the lexicon does not know.
    assert!(!judged("autobusy"));
    assert!(!judged("nagniatanie"));
    assert!(!judged("zamknięcia"));
    // A gerund's genitive plural, spelled like an infinitive: its instrumental is in the list.
    assert!(!judged("zamknięć"));
    assert!(!judged("Pasażerowie"));
    assert!(!judged("Rada miasta"));
    // English judges lone words only, and its "-ing" forms read only as verbs count as nouns.
    let english = lexicon(
        &["library", "transform"],
        &["lending", "started", "transform", "amazing"],
        &["expensive", "amazing"],
    );
    let c = extract_candidates(
        &[
            "The expensive library started lending.",
            "Prices started.",
            "It was amazing.",
        ],
        "en",
        &opts(),
    );
    let misfits = word_class_misfits(&c, &english, "en");
    assert!(c.iter().any(|c| c.surface == "amazing"), "{c:?}");
    for (c, misfit) in c.iter().zip(&misfits) {
        let expected = ["expensive", "started", "amazing"].contains(&c.surface.as_str());
        assert_eq!(*misfit, expected, "{}", c.surface);
    }
}

#[test]
fn french_lone_participles_and_phrases_ending_in_a_verb_are_misfits_noun_phrases_are_not() {
    let french = lexicon(
        &["marché", "couvert", "portes", "ville", "minitel"],
        &["rouvert", "couvert", "portes", "cessera"],
        &["couvert", "rouvert"],
    );
    let c = extract_candidates(
        &[
            "Le marché couvert a rouvert ses portes.",
            "Rouvert hier, le marché couvert attire la ville.",
            "Le minitel cessera.",
        ],
        "fr",
        &opts(),
    );
    let misfits = word_class_misfits(&c, &french, "fr");
    for (c, misfit) in c.iter().zip(&misfits) {
        // The lower-case participle, the verb and the phrase ending in it: "couvert" and
        // "portes" are nouns too, "marché couvert" ends in a word that is also an adjective,
        // "Rouvert" is capitalised.
        let expected = ["rouvert", "cessera", "minitel cessera"].contains(&c.surface.as_str());
        assert_eq!(*misfit, expected, "{}", c.surface);
    }
    assert!(c.iter().any(|c| c.surface == "minitel cessera"), "{c:?}");
    assert!(c.iter().any(|c| c.surface == "rouvert"), "{c:?}");
    assert!(c.iter().any(|c| c.surface == "marché couvert"), "{c:?}");
}
