//! Unit tests of `topics`.
use super::*;
use std::io::Write;

#[test]
fn iptc_levels_paths_and_translations() {
    let top = Taxonomy::iptc(1);
    assert_eq!(top.labels.len(), 17);
    let two = Taxonomy::iptc(2);
    assert!(two.labels.len() > 100);
    let all = Taxonomy::iptc(6);
    let deep = all.labels.iter().find(|l| l.path.len() >= 3).unwrap();
    assert!(deep.path[0].starts_with("medtop:") && deep.path.last() == Some(&deep.id));
    let politics = top
        .labels
        .iter()
        .find(|l| l.id == "medtop:11000000")
        .unwrap();
    assert_eq!(
        politics.translations.get("de").map(String::as_str),
        Some("Politik")
    );
    // IPTC has no Polish labels; lede's own fill the top two levels.
    assert_eq!(
        politics.translations.get("pl").map(String::as_str),
        Some("polityka i władza")
    );
    assert!(two.labels.iter().all(|l| l.translations.contains_key("pl")));
}

#[test]
fn iptc_subjects_know_the_names_below_them_at_every_depth() {
    let top = Taxonomy::iptc(1);
    let sport = top
        .labels
        .iter()
        .find(|l| l.id == "medtop:15000000")
        .unwrap();
    // "competition discipline" is one level down, "tennis" two: both count, although
    // `--topic-depth 1` keeps only the top level as labels.
    for name in ["competition discipline", "tennis", "cycling"] {
        assert!(sport.narrower.iter().any(|n| n == name), "{name}");
    }
    assert!(!sport.narrower.iter().any(|n| n == "election"));
    let all = Taxonomy::iptc(6);
    let leaf = all.labels.iter().find(|l| l.label == "tennis").unwrap();
    assert!(leaf.narrower.is_empty());
    // A deeper vocabulary is another vocabulary (its cache entry and fingerprint change).
    assert_ne!(top.hash(), Taxonomy::iptc(2).hash());
    let texts = top.part_texts();
    let distinct: HashSet<&String> = texts.iter().collect();
    assert_eq!(distinct.len(), texts.len());
}

#[test]
fn a_broad_subject_is_matched_by_what_it_covers() {
    // "sport"'s own text is abstract (e_0); its narrower names point where match reports are
    // (e_1). A match report (mostly e_1) now goes to sport rather than to "politics" (e_2),
    // which its raw cosine to the abstract text would have preferred.
    let t = Taxonomy::iptc(1);
    let n = t.labels.len();
    let sport = t
        .labels
        .iter()
        .position(|l| l.id == "medtop:15000000")
        .unwrap();
    let politics = t
        .labels
        .iter()
        .position(|l| l.id == "medtop:11000000")
        .unwrap();
    let dim = 3;
    let mut text_vecs = vec![vec![0.0, 0.0, 0.0]; n];
    text_vecs[sport] = vec![1.0, 0.0, 0.0];
    text_vecs[politics] = vec![0.0, 0.0, 1.0];
    let narrower = t.part_texts();
    let narrower_vecs: Vec<Vec<f32>> = narrower
        .iter()
        .map(|name| {
            let under_sport = t.labels[sport].narrower.contains(name);
            let mut v = vec![0.0; dim];
            v[if under_sport { 1 } else { 0 }] = 1.0;
            v
        })
        .collect();
    let article = [0.2, 0.7, 0.68];
    let plain = LabelSpace::new(&t, text_vecs.clone(), &vec![None; n], 2.0, None);
    let top = |s: &LabelSpace| {
        t.labels[argmax(&vote_shares(&[(&article, 1.0)], "en", s))]
            .id
            .clone()
    };
    assert_eq!(top(&plain), "medtop:11000000");
    let subjects = subject_vectors(&t, text_vecs, &narrower_vecs);
    let norm: f32 = subjects[sport].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-6);
    // Politics' narrower names lie on e_0 in this toy space: it moves away from the article.
    let space = LabelSpace::new(&t, subjects, &vec![None; n], 2.0, None);
    assert_eq!(top(&space), "medtop:15000000");
}

fn file(name: &str, content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(content.as_bytes())
        .unwrap();
    (dir, p)
}

#[test]
fn plain_label_files_keep_labels_verbatim() {
    let (_d, p) = file(
        "tags.txt",
        "# site tags\nBezpieczeństwo  \n\nIndo-Pacyfik\nChiny / Tajwan\n",
    );
    let t = Taxonomy::from_file(&p).unwrap();
    let labels: Vec<_> = t.labels.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Bezpieczeństwo", "Indo-Pacyfik", "Chiny / Tajwan"]);
    assert_eq!(t.scheme, "tags");
}

#[test]
fn a_description_written_as_a_list_has_facets() {
    assert_eq!(
        facets_of("Wirtschaft: Unternehmen, Märkte; Banken"),
        ["Wirtschaft", "Unternehmen", "Märkte", "Banken"]
    );
    assert!(facets_of("Everything about the economy and its markets").is_empty());
    assert!(facets_of(" , ").is_empty());
    let (_d, p) = file(
        "t.jsonl",
        "{\"id\":\"biz\",\"label\":\"Business\",\"description\":\"companies, markets\"}\n{\"id\":\"x\",\"label\":\"X\"}\n",
    );
    let t = Taxonomy::from_file(&p).unwrap();
    assert_eq!(t.part_texts(), ["companies", "markets"]);
    // The label's own text and the mean of its facets, at equal weight: e_0 + (e_1 + e_2) / 2.
    let own = vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0]];
    let parts = vec![vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
    let v = subject_vectors(&t, own, &parts);
    let expect = [2.0, 1.0, 1.0].map(|x: f32| x / 6f32.sqrt());
    assert!(
        v[0].iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-6),
        "{v:?}"
    );
    assert_eq!(v[1], [0.0, 0.0, 1.0]);
}

#[test]
fn bad_taxonomies_name_the_line() {
    let (_d, p) = file("t.txt", "\n# nothing\n");
    assert!(Taxonomy::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("no labels"));
    let (_d, p) = file("t.txt", "Sport\nPolityka\nSport\n");
    assert!(Taxonomy::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("t.txt:3: duplicate id \"Sport\""));
    let (_d, p) = file(
        "t.jsonl",
        "{\"id\":\"a\",\"label\":\"A\"}\n{\"id\":\"b\",\n",
    );
    assert!(Taxonomy::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("t.jsonl:2:"));
    let (_d, p) = file(
        "t.json",
        "[{\"id\":\"a\",\"label\":\"A\"},{\"id\":\"a\",\"label\":\"B\"}]",
    );
    assert!(Taxonomy::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("duplicate id \"a\""));
    let (_d, p) = file("t.json", "[{\"id\":\"a\"}]");
    assert!(Taxonomy::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("missing \"label\""));
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[test]
fn an_article_about_two_things_gives_both_a_share() {
    let (_d, p) = file(
        "t.json",
        r#"[{"id":"x","label":"X","description":"d"},{"id":"y","label":"Y"}]"#,
    );
    let t = Taxonomy::from_file(&p).unwrap();
    let space = LabelSpace::new(
        &t,
        vec![vec![1.0, 0.0], vec![0.0, 1.0]],
        &[None, None],
        2.0,
        None,
    );
    // One sentence on each, and a title (half a sentence) on y. Both get their share; the mean
    // of the sentences would sit between them, near neither.
    let parts: [(&[f32], f32); 4] = [
        (&[1.0, 0.0], 1.0),
        (&[0.0, 1.0], 1.0),
        (&[0.6, 0.8], 0.5),
        (&[0.0, 0.0], 1.0), // a text without a vector does not vote
    ];
    let shares = vote_shares(&parts, "en", &space);
    assert!(
        (shares[0] - 0.4).abs() < 1e-4 && (shares[1] - 0.6).abs() < 1e-4,
        "{shares:?}"
    );
    assert_eq!(vote_shares(&[], "en", &space), vec![0.0, 0.0]);
    assert_eq!(t.label_texts()[0], "X: d");
}

#[test]
fn topics_are_reported_from_the_threshold_up_and_otherwise_say_what_came_closest() {
    let (_d, p) = file("t.txt", "Sport\nPolitics\nCulture\n");
    let t = Taxonomy::from_file(&p).unwrap();
    let options = |threshold| TopicOptions {
        top_k: 2,
        threshold,
        ..TopicOptions::default()
    };
    let got = assign(&[0.3, 0.9, 0.6], &t, "en", &options(0.5));
    let ids: Vec<_> = got.topics.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["Politics", "Culture"]);
    assert_eq!(got.topics[0].score, 0.9);
    assert!(got.best_below.is_none());
    let got = assign(&[0.3, 0.4, 0.2], &t, "en", &options(0.5));
    assert!(got.topics.is_empty());
    assert_eq!(got.best_below.unwrap().id, "Politics");
}

#[test]
fn zero_shot_probabilities_rise_with_the_share_and_are_calibrated() {
    let (_d, p) = file("t.txt", "A\nB\n");
    let t = Taxonomy::from_file(&p).unwrap();
    let head = head::HeadWeights::zero_shot(2, 3, head::ZERO_SHOT_PLATT);
    let x = [0.0, 0.0, 1.0];
    let p = probabilities(&t, &[0.9, 0.1], &[0.9, 0.1], &x, &[], "en", &head);
    assert!(p[0] > p[1], "{p:?}");
    assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
    // The head reads the evidence it is given (branch shares over the depth it learnt at), not
    // the reported labels' shares.
    let e = probabilities(&t, &[0.9, 0.1], &[0.1, 0.9], &x, &[], "en", &head);
    assert!(e[1] > e[0], "{e:?}");
    // A head's weights over the article vector move a subject's probability, and, with a scaling
    // without margin (a folder written before the margin), only that subject's.
    let learnt = head::HeadWeights::zero_shot(2, 3, head::Platt::new(1.0, 0.0));
    let p = probabilities(&t, &[0.9, 0.1], &[0.9, 0.1], &x, &[], "en", &learnt);
    let mut trained = learnt.clone();
    trained.w[3 + 2] = 5.0;
    let q = probabilities(&t, &[0.9, 0.1], &[0.9, 0.1], &x, &[], "en", &trained);
    assert!(q[1] > p[1] && q[0] == p[0], "{q:?}");
}

#[test]
fn a_narrow_label_wins_only_inside_a_branch_that_fits() {
    // IPTC: "sport" > "sports officiating"; "lifestyle and leisure" > "leisure". An article about
    // a match whose nearest single label is "leisure" (0.62 against 0.60) goes to the sport
    // branch, because "sport" fits it far better than "lifestyle and leisure".
    let t = Taxonomy::iptc(2);
    let pos = |id: &str| t.labels.iter().position(|l| l.id == id).unwrap();
    let (sport, officiating) = (pos("medtop:15000000"), pos("medtop:20001325"));
    let (lifestyle, leisure) = (pos("medtop:10000000"), pos("medtop:20000538"));
    let n = t.labels.len();
    // Label i is the unit vector e_i; the article is a mix of the four labels above.
    let text_vecs: Vec<Vec<f32>> = (0..n)
        .map(|i| (0..n).map(|j| f32::from(u8::from(i == j))).collect())
        .collect();
    let mut article = vec![0f32; n];
    article[sport] = 0.5;
    article[officiating] = 0.60;
    article[lifestyle] = 0.1;
    article[leisure] = 0.62;
    let space = LabelSpace::new(&t, text_vecs, &vec![None; n], 2.0, None);
    let shares = vote_shares(&[(&article, 1.0)], "en", &space);
    // Path means 0.55 against sport's 0.50: five temperatures apart, nearly the whole vote.
    assert_eq!(argmax(&shares), officiating);
    assert!(shares[officiating] > 0.99, "{shares:?}");
    // The branch decides first, and the broader subject is at least as likely as the narrower.
    let roots = top_level(&t);
    assert_eq!(roots.len(), 17);
    let branches = branch_shares(&t, &shares);
    assert_eq!(t.labels[roots[argmax(&branches)]].id, "medtop:15000000");
    let head = head::HeadWeights::zero_shot(17, n, head::ZERO_SHOT_PLATT);
    let p = probabilities(&t, &shares, &branches, &article, &[], "en", &head);
    assert!(
        p[sport] >= p[officiating] && p[officiating] > p[leisure],
        "{p:?}"
    );
}

#[test]
fn a_label_near_all_text_of_its_language_wins_nothing_once_both_are_centred() {
    let (_d, p) = file("t.txt", "Sport\nBezpieczeństwo\n");
    let t = Taxonomy::from_file(&p).unwrap();
    // Every Polish text sits near the language's centre (e_0), and the bare name "Sport" with
    // it; "Bezpieczeństwo" (security) is described away from it. An article about security is
    // nearer "Sport" by raw cosine, because both are Polish.
    let polish = centre::LanguageCentres {
        source: "test".into(),
        languages: BTreeMap::from([("pl".to_string(), vec![0.9, 0.0, 0.0])]),
        other: vec![0.9, 0.0, 0.0],
    };
    let article = [0.9, 0.0, 0.43];
    let labels = vec![vec![0.95, 0.3, 0.0], vec![0.3, 0.0, 0.95]];
    let top = |centring: Option<(&centre::LanguageCentres, &str)>| {
        let space = LabelSpace::new(&t, labels.clone(), &[None, None], 2.0, centring);
        t.labels[argmax(&vote_shares(&[(&article, 1.0)], "pl", &space))]
            .id
            .clone()
    };
    assert_eq!(top(None), "Sport");
    assert_eq!(top(Some((&polish, "pl"))), "Bezpieczeństwo");
}

#[test]
fn a_vocabulary_written_as_json_lines_reads_back_the_same() {
    let (_d, p) = file(
        "site.json",
        r#"[{"id":"s","label":"Sport","description":"football, tennis","examples":["A match."]},{"id":"p","label":"Polityka"}]"#,
    );
    let t = Taxonomy::from_file(&p).unwrap();
    let back = Taxonomy::parse(Path::new("site.jsonl"), t.scheme.clone(), &t.to_jsonl()).unwrap();
    assert_eq!(back.labels, t.labels);
    assert_eq!(back.hash(), t.hash());
}
