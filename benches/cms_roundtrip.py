#!/usr/bin/env python3
"""Round trip of real post bodies through lede's CMS writers: builds a Markdown site (YAML and TOML front
matter, some with hand-written descriptions) and a WordPress export (WXR, some posts with hand-written
excerpts and tags) from CMS-like JSONL records, runs `lede enrich --in-place` on both, and checks what a
site owner would check: every body byte for byte, every original front matter value and WXR element
kept, editors' values kept, the rest filled, the export well-formed with every item. Prints a table.

    python3 benches/cms_roundtrip.py EVAL/cms_wordpress_theme_test.jsonl EVAL/cms_readability_pages.jsonl

Records need `id`, `title`, `body_html` (and optionally `text`, `date`, `author`, `categories`,
`gold_tags`, `reference_summary`). Nothing is written outside a temporary folder.
"""
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEDE = os.path.join(ROOT, "target", "release", "lede")
NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "wp": "http://wordpress.org/export/1.2/",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def as_list(v):
    if isinstance(v, list):
        return v
    if isinstance(v, str) and v.startswith("["):
        try:
            return list(ast.literal_eval(v))
        except (ValueError, SyntaxError):
            return []
    return []


def text_or_none(v):
    return v if isinstance(v, str) and v.strip() and v != "None" else None


def cdata(s):
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "x"


def build(records, folder):
    """Markdown files and a WXR export from the records; returns what the checks need."""
    content = os.path.join(folder, "content")
    os.makedirs(content)
    md = {}
    for i, r in enumerate(records):
        body = (r.get("text") or "") if i % 2 else r["body_html"]
        body = body.rstrip("\n") + "\n"
        front = {"title": r["title"], "date": str(r.get("date") or "2026-01-01"),
                 "author": str(r.get("author") or "staff"), "categories": [str(c) for c in as_list(r.get("categories"))]}
        editor = i % 4 == 0
        if editor:
            front["description"] = f"Hand-written teaser number {i}."
        name = f"{slug(r['id'])}.md"
        if i % 3 == 0:
            lines = ["+++", "# written by hand"]
            for k, v in front.items():
                lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
            text = "\n".join(lines) + "\n+++\n" + body
        else:
            text = "---\n# written by hand\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + body
        with open(os.path.join(content, name), "w", encoding="utf-8") as f:
            f.write(text)
        md[name] = (front, body, editor)
    items = []
    wxr = {}
    for i, r in enumerate(records):
        pid = str(1000 + i)
        excerpt = text_or_none(r.get("reference_summary")) if i % 3 == 0 else None
        tags = [str(t) for t in as_list(r.get("gold_tags"))] if i % 3 == 1 else []
        cats = "".join(
            f'\n\t\t<category domain="post_tag" nicename="{slug(t)}">{cdata(t)}</category>' for t in tags)
        items.append(f"""\t<item>
\t\t<title>{cdata(r['title'])}</title>
\t\t<link>https://example.org/?p={pid}</link>
\t\t<dc:creator>{cdata(str(r.get('author') or 'staff'))}</dc:creator>
\t\t<content:encoded>{cdata(r['body_html'])}</content:encoded>
\t\t<excerpt:encoded>{cdata(excerpt or '')}</excerpt:encoded>
\t\t<wp:post_id>{pid}</wp:post_id>
\t\t<wp:post_date>{cdata(str(r.get('date') or ''))}</wp:post_date>
\t\t<wp:status>{cdata(str(r.get('status') or 'publish'))}</wp:status>
\t\t<wp:post_type>{cdata('post')}</wp:post_type>{cats}
\t</item>""")
        wxr[pid] = (r["body_html"], excerpt, tags)
    export = f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="{NS['excerpt']}" xmlns:content="{NS['content']}" xmlns:dc="{NS['dc']}" xmlns:wp="{NS['wp']}">
<channel>
\t<title>Round trip</title>
\t<wp:wxr_version>1.2</wp:wxr_version>
{chr(10).join(items)}
</channel>
</rss>
"""
    with open(os.path.join(folder, "export.xml"), "w", encoding="utf-8") as f:
        f.write(export)
    return md, wxr


def run(folder, args):
    started = time.time()
    out = subprocess.run([LEDE, "enrich", *args], cwd=folder, capture_output=True, text=True)
    return out, time.time() - started


def parse_md(text):
    if text.startswith("+++"):
        end = text.index("\n+++\n", 3)
        return tomllib.loads(text[4:end]), text[end + 5:]
    end = text.index("\n---\n", 3)
    return yaml.safe_load(text[4:end]), text[end + 5:]


def main(paths):
    records = [json.loads(l) for p in paths for l in open(p, encoding="utf-8") if l.strip()]
    with tempfile.TemporaryDirectory() as folder:
        md, wxr = build(records, folder)
        md_run, md_secs = run(folder, ["content", "--in-place"])
        xml_run, xml_secs = run(folder, ["export.xml", "--in-place"])
        rerun, _ = run(folder, ["content", "--check"])

        problems = []
        filled = kept = lang = 0
        for name, (front, body, editor) in md.items():
            with open(os.path.join(folder, "content", name), encoding="utf-8") as f:
                new_front, new_body = parse_md(f.read())
            if new_body != body:
                problems.append(f"{name}: body changed")
            for k, v in front.items():
                if k != "description" and str(new_front.get(k)) != str(v):
                    problems.append(f"{name}: {k} changed")
            if editor:
                kept += new_front.get("description") == front["description"]
            elif new_front.get("description"):
                filled += 1
            lang += bool(new_front.get("lang"))
        tree = ET.parse(os.path.join(folder, "export.xml"))
        items = tree.getroot().findall("./channel/item")
        excerpts_filled = excerpts_kept = tagged = tags_kept = 0
        for item in items:
            pid = item.findtext("wp:post_id", namespaces=NS)
            body, excerpt, tags = wxr[pid]
            if item.findtext("content:encoded", namespaces=NS) != body:
                problems.append(f"post {pid}: content changed")
            new_excerpt = item.findtext("excerpt:encoded", namespaces=NS)
            if excerpt:
                excerpts_kept += new_excerpt == excerpt
            elif new_excerpt:
                excerpts_filled += 1
            new_tags = [c.text for c in item.findall("category[@domain='post_tag']")]
            if tags:
                tags_kept += new_tags == tags
            elif new_tags:
                tagged += 1
        n = len(records)
        editors = sum(e for _, _, e in md.values())
        with_excerpt = sum(1 for _, e, _ in wxr.values() if e)
        with_tags = sum(1 for _, _, t in wxr.values() if t)
        print(f"| records | {n} ({', '.join(os.path.basename(p) for p in paths)}) |")
        print("|---|---|")
        print(f"| Markdown: lede exit, time | {md_run.returncode}, {md_secs:.1f} s |")
        print(f"| Markdown: bodies and original values unchanged | {n - len([p for p in problems if p.endswith('.md: body changed') or '.md:' in p])}/{n} |")
        print(f"| Markdown: description filled / editors' kept | {filled}/{n - editors} / {kept}/{editors} |")
        print(f"| Markdown: `lang` written | {lang}/{n} |")
        print(f"| Markdown: `--check` after the run | exit {rerun.returncode} |")
        print(f"| WXR: lede exit, time | {xml_run.returncode}, {xml_secs:.1f} s |")
        print(f"| WXR: well-formed, items | yes, {len(items)}/{n} |")
        print(f"| WXR: excerpt filled / editors' kept | {excerpts_filled}/{n - with_excerpt} / {excerpts_kept}/{with_excerpt} |")
        print(f"| WXR: tags added / editors' kept | {tagged}/{n - with_tags} / {tags_kept}/{with_tags} |")
        print(f"| problems | {len(problems)} |")
        for p in problems[:20]:
            print("  ", p)
        for out in (md_run, xml_run):
            errors = [l for l in out.stderr.splitlines() if ": " in l and "records:" not in l and "in place:" not in l and "kept the editor" not in l]
            for l in errors[:10]:
                print("   stderr:", l)


if __name__ == "__main__":
    main(sys.argv[1:])
