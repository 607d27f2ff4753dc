#!/usr/bin/env python3
"""Regenerates samples/articles.jsonl: the real seed page of the first site (Instytut Boyma, shared with the
project in ../shared/seed/) as a CMS-style record, plus short articles written for lede (pl, en, de, fr); and
samples/seed.jsonl, the seed record alone (the README's tour)."""
import html
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
lines = open(os.path.join(here, '..', '..', 'shared', 'seed', 'boym-institute-asian-nato-page.txt'),
             encoding='utf-8').read().split('\n')
title, lead = lines[0].strip(), lines[2].strip()
# The article runs from the lead after the byline to the empty "TAGI:" line, author note included, as the
# CMS serves it.
end = next(i for i, l in enumerate(lines) if l.startswith('TAGI:'))
paras = [l.strip() for l in lines[6:end] if l.strip()]


def block(p):
    # Short lines without final punctuation are the page's sub-headings.
    if len(p) < 90 and not p.endswith(('.', '"', '\u201d')):
        return f"<h2>{html.escape(p, quote=False)}</h2>"
    return f"<p>{html.escape(p, quote=False)}</p>"


seed = {"id": "boym-2023-12-15-asian-nato", "title": title, "lead": lead, "author": "Paweł Behrendt",
        "datePublished": "2023-12-15", "site": "Instytut Boyma", "tags": [],
        "body": "\n".join(block(p) for p in paras)}

own = [
 {"id": "pl-tramwaje-2026", "title": "Nowa linia tramwajowa połączy Nowy Dwór z centrum do 2028 r.",
  "author": "Redakcja (tekst przykładowy lede)", "datePublished": "2026-03-04",
  "body": "<p>Rada miasta przyjęła w czwartek plan budowy nowej linii tramwajowej, która połączy osiedle Nowy Dwór z centrum. Inwestycja ma kosztować ok. 640 mln zł, z czego ponad połowę pokryją fundusze unijne.</p>"
          "<p>Według prezydenta miasta, dr. Tomasza Wilka, tramwaj skróci dojazd do śródmieścia z 45 do 22 minut. „To największa inwestycja w transport publiczny od dwudziestu lat” – powiedział na konferencji prasowej.</p>"
          "<p>Trasa będzie miała 7,4 km i 12 przystanków. Przetarg na wykonawcę ogłoszono 15.02.2026 r., a pierwsze prace ruszą w przyszłym roku. Mieszkańcy od miesięcy zgłaszali, że autobusy są przepełnione, zwłaszcza w godzinach szczytu.</p>"
          "<p>Nie wszyscy są zadowoleni. Radni opozycji pytają m.in. o koszty utrzymania taboru i o wycinkę ok. 300 drzew wzdłuż ul. Długiej. Miasto zapowiada nasadzenia zastępcze i konsultacje społeczne w kwietniu.</p>"},
 {"id": "en-library-2026", "title": "Small-town library lends tools, seeds and sewing machines",
  "author": "Sample desk (written for lede)", "datePublished": "2026-05-19",
  "body": "The public library in Millbrook has started lending far more than books. Since January, residents with a library card can borrow drills, ladders, a pressure washer, seed packets and even two sewing machines.\n\n"
          "Head librarian Ruth Okafor said the idea came from a survey in which many people said they owned tools they had used only once. \"A drill sits in a drawer for years and is used for twenty minutes,\" she said. \"Sharing one is cheaper for everybody and better for the planet.\"\n\n"
          "The tool collection was funded by a $12,000 grant from the county and by donations from local businesses. More than 400 items have been borrowed so far, and the waiting list for the pressure washer runs into June.\n\n"
          "Other libraries in the region are now studying the scheme. Officials warn, however, that insurance and repairs could become expensive as the collection grows."},
 {"id": "de-radweg-2026", "title": "Neuer Radschnellweg zwischen Nord- und Südstadt eröffnet",
  "author": "Beispielredaktion (für lede geschrieben)", "datePublished": "2026-06-02",
  "body": "<p>Nach zwei Jahren Bauzeit ist am Montag der neue Radschnellweg zwischen Nord- und Südstadt eröffnet worden. Die 9,5 Kilometer lange Strecke ist durchgehend vier Meter breit und beleuchtet.</p>"
          "<p>Oberbürgermeisterin Dr. Anna Krüger sprach von einem „Meilenstein für die Verkehrswende“. Bis zu 6.000 Pendlerinnen und Pendler sollen die Strecke täglich nutzen, z.B. auf dem Weg zur Universität oder ins Gewerbegebiet.</p>"
          "<p>Die Kosten lagen bei rund 14 Mio. Euro, etwa 3 Mio. mehr als geplant. Der Bund übernahm 75 Prozent. Kritik kam vom Einzelhandel, der den Wegfall von Parkplätzen in der Bahnhofstraße beklagt.</p>"},
 {"id": "fr-marche-2026", "title": "Le marché couvert rouvre après deux ans de travaux",
  "author": "Rédaction d'exemple (écrit pour lede)", "datePublished": "2026-09-12",
  "body": "<p>Le marché couvert du centre-ville a rouvert ses portes samedi matin, après deux ans de rénovation. Une quarantaine de commerçants, dont une dizaine de nouveaux venus, y vendent fruits, légumes, fromages et produits de la mer.</p>"
          "<p>Les travaux, d'un montant de 8,2 millions d'euros, ont permis de refaire la toiture, d'isoler le bâtiment et d'installer des panneaux solaires. « Nous voulions garder l'âme du lieu tout en le rendant plus sobre », explique l'architecte, Mme Claire Dubois.</p>"
          "<p>Les horaires sont élargis : le marché sera désormais ouvert du mardi au dimanche, de 7 h à 14 h, et le vendredi soir jusqu'à 21 h.</p>"},
]
with open(os.path.join(here, 'articles.jsonl'), 'w', encoding='utf-8') as f:
    for rec in [seed] + own:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
with open(os.path.join(here, 'seed.jsonl'), 'w', encoding='utf-8') as f:
    f.write(json.dumps(seed, ensure_ascii=False) + "\n")
