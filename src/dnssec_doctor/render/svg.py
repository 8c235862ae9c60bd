"""The chain of trust as an SVG picture: from the trust anchor down to the name.

Each zone on the path is a box, placed under its parent (a CNAME into another zone makes
a second branch). Inside a box, top down: the DS records the parent publishes, the KSKs,
the ZSKs, and the answer RRsets the zone holds. Arrows say which record vouches for which:
the parent's key signs the DS, the DS names a KSK, the KSK signs the DNSKEY RRset (so the
ZSK), the ZSK signs the answer. The link the diagnosis names as broken is drawn red and
dashed, labelled with its finding code, and explained in a caption under the graph.

Pure: a function of the report, no I/O. Every text drawn (names come from DNS and can hold
anything) is escaped here, since the SVG is also embedded as markup in the web page.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.dnssec
import dns.name

from dnssec_doctor.analysis.chain import ChainState, ZoneAssessment
from dnssec_doctor.analysis.codes import CODES, Link
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.snapshot import Purpose
from dnssec_doctor.render.sentences import headline_text

NODE_W = 190
NODE_H = 40
GAP = 16  # between nodes of a row
ROW_GAP = 30  # between rows inside a zone box
PAD = 14
HEADER = 30
ZONE_GAP = 62  # between a parent's box and its children's
MARGIN = 20
CHAR_W = 6.6  # of the 12 px font, to size boxes without measuring text

COLOURS = {
    ChainState.SECURE: "#1a7f37",
    ChainState.INSECURE: "#7d6608",
    ChainState.BOGUS: "#cf222e",
    ChainState.PARTIAL: "#bc4c00",
    ChainState.UNREACHABLE: "#8250df",
    ChainState.INDETERMINATE: "#6e7781",
}
BROKEN = "#cf222e"
EDGE = "#57606a"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# Where the SVG draws the link a cause breaks (a signature: over the keys or the answer).
_PARTS: dict[Link | None, str] = {
    Link.DS: "ds",
    Link.DELEGATION: "delegation",
    Link.DENIAL: "answer",
}


def text(value: object) -> str:
    """Escaped for XML text and attributes; control characters (not allowed in XML 1.0)
    replaced."""
    return html.escape(_CONTROL.sub("\ufffd", str(value)), quote=True)


def _clip(value: str, width: float) -> str:
    limit = max(4, int(width / CHAR_W))
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class _Node:
    key: str
    label: str
    detail: str
    kind: str  # ds, ksk, zsk, answer, ghost, anchor
    colour: str
    title: str
    x: float = 0
    y: float = 0


@dataclass
class _Edge:
    source: str
    target: str
    label: str = ""
    broken: bool = False
    title: str = ""


@dataclass
class _Box:
    zone: ZoneAssessment
    rows: list[list[_Node]] = field(default_factory=list)
    children: list[_Box] = field(default_factory=list)
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    broken: bool = False

    def measure(self) -> None:
        widest = max((len(row) for row in self.rows), default=1)
        header = len(self.zone.zone) * CHAR_W + 110
        self.width = max(widest * (NODE_W + GAP) - GAP + 2 * PAD, min(header, 380), 220)
        self.height = HEADER + PAD + len(self.rows) * (NODE_H + ROW_GAP) - ROW_GAP + PAD
        if not self.rows:
            self.height = HEADER + PAD

    def subtree_width(self) -> float:
        below = sum(c.subtree_width() for c in self.children) + GAP * 2 * (len(self.children) - 1)
        return max(self.width, below)


def _algorithm(number: int) -> str:
    try:
        return f"{dns.dnssec.algorithm_to_text(number)} ({number})"
    except ValueError:
        return str(number)


def _broken_link(report: Report) -> tuple[str | None, str, Finding | None]:
    """Where the diagnosis says the chain breaks: (zone, part, cause); part is one of
    ds, dnskey, answer, delegation, zone."""
    diagnosis = report.diagnosis
    if not diagnosis.causes or diagnosis.verdict.value in ("secure", "insecure"):
        return None, "", None
    cause = diagnosis.causes[0]
    zone = cause.zone or diagnosis.zone
    link = CODES[cause.code].link
    if link is Link.SIGNATURE:
        part = "dnskey" if cause.subject.endswith("/DNSKEY") else "answer"
    else:
        part = _PARTS.get(link, "zone")
    return zone, part, cause


def render_svg(report: Report) -> str:
    """The chain of trust of the report's question as a standalone SVG document."""
    analysis = report.analysis
    broken_zone, broken_part, cause = _broken_link(report)
    code = cause.code if cause else ""
    nodes: dict[str, _Node] = {}
    edges: list[_Edge] = []
    boxes: dict[str, _Box] = {}
    targets = report.snapshot.targets or ((report.snapshot.name, report.snapshot.rdtype),)

    anchor_tags = list(analysis.anchor_tags)
    anchor = _Node(
        "anchor",
        "trust anchor",
        "key " + ", ".join(str(t) for t in anchor_tags) if anchor_tags else "",
        "anchor",
        COLOURS[ChainState.SECURE],
        "the configured trust anchor: " + "; ".join(report.snapshot.trust_anchors),
    )
    nodes["anchor"] = anchor

    for zone in analysis.zones:
        colour = COLOURS.get(zone.state, EDGE)
        box = _Box(zone)
        boxes[zone.zone] = box
        keys = zone.keys
        ds_set = [d.check for d in zone.ds if d.check is not None]
        is_broken = zone.zone == broken_zone
        box.broken = is_broken and broken_part == "zone"
        # The DS row (the parent's records) and each DS's link to the child's keys.
        ds_row: list[_Node] = []
        missing: list[_Node] = []
        for check in ds_set:
            ds = check.ds
            node_key = f"{zone.zone}/ds/{ds.key_tag}/{ds.algorithm}/{ds.digest_type}"
            ds_row.append(
                _Node(
                    node_key,
                    f"DS {ds.key_tag}",
                    f"alg {int(ds.algorithm)}, digest {int(ds.digest_type)}",
                    "ds",
                    colour,
                    f"{zone.zone} DS {ds.to_text()}",
                )
            )
            # A DS whose digest is wrong still names a key by tag and algorithm.
            named = check.digest_keys or check.named_keys
            ds_broken = is_broken and broken_part == "ds"
            for tag in (dns.dnssec.key_id(k) for k in named):
                bad = ds_broken or not check.digest_keys
                edges.append(
                    _Edge(
                        node_key,
                        f"{zone.zone}/key/{tag}",
                        (code or "digest differs") if bad else "names",
                        broken=bad,
                        title=cause.summary if ds_broken and cause else "DS matches this key",
                    )
                )
            if not named:
                ghost = f"{zone.zone}/missing/{ds.key_tag}"
                missing.append(
                    _Node(
                        ghost,
                        f"no DNSKEY {ds.key_tag}",
                        "the DS names it",
                        "ghost",
                        BROKEN,
                        f"no DNSKEY of {zone.zone} matches DS {ds.key_tag}",
                    )
                )
                edges.append(
                    _Edge(
                        node_key,
                        ghost,
                        code if is_broken else "no match",
                        broken=True,
                        title=cause.summary if cause and is_broken else "no matching key",
                    )
                )
        if ds_row:
            box.rows.append(ds_row)
        # The keys: KSKs (SEP flag) above ZSKs.
        dnskey_signers = zone.signers(Purpose.DNSKEY, "DNSKEY")
        ksk_row: list[_Node] = []
        zsk_row: list[_Node] = []
        for key in keys:
            tag = key.tag
            revoked = " revoked" if key.revoked else ""
            node = _Node(
                f"{zone.zone}/key/{tag}",
                f"{key.role} {tag}{revoked}",
                _algorithm(key.algorithm),
                key.role.lower(),
                colour,
                f"{zone.zone} DNSKEY {key.flags} {key.key.protocol} {key.algorithm} "
                f"(key tag {tag})",
            )
            (ksk_row if key.role == "KSK" else zsk_row).append(node)
        if not ksk_row and zsk_row:  # no SEP flag anywhere: the signers are the KSKs
            ksk_row = [n for n in zsk_row if _tag(n) in dnskey_signers]
            zsk_row = [n for n in zsk_row if n not in ksk_row]
        if not keys:
            ghost = f"{zone.zone}/nokeys"
            label = "no DNSKEY" if zone.state is not ChainState.UNREACHABLE else "no answer"
            detail = "unsigned" if not ds_set else "DS without keys"
            if zone.state is ChainState.UNREACHABLE:
                detail = "servers unreachable"
            ksk_row = [
                _Node(ghost, label, detail, "ghost", colour, f"{zone.zone}: {label}, {detail}")
            ]
        if keys or not missing:
            ksk_row += missing
        else:
            ksk_row = missing
        box.rows += [row for row in (ksk_row, zsk_row) if row]
        key_nodes = {_tag(n): n for n in (*ksk_row, *zsk_row) if n.kind in ("ksk", "zsk")}
        for signer in sorted(dnskey_signers):
            if signer not in key_nodes:
                continue
            for target in zsk_row:
                if _tag(target) != signer:
                    edges.append(
                        _Edge(
                            key_nodes[signer].key,
                            target.key,
                            code if is_broken and broken_part == "dnskey" else "signs",
                            broken=is_broken and broken_part == "dnskey",
                            title=(cause.summary if cause and is_broken else "")
                            or "signs the DNSKEY RRset",
                        )
                    )
        if is_broken and broken_part == "dnskey" and not zsk_row and ksk_row:
            key_nodes_list = list(ksk_row)
            key_nodes_list[0].colour = BROKEN
        # The answers this zone holds (the name, or a CNAME on the way).
        answer_row: list[_Node] = []
        for index, (qname, qtype) in enumerate(targets):
            if _zone_of(qname, analysis.zones) != zone.zone:
                continue
            shown_type = "CNAME" if index + 1 < len(targets) else qtype
            rcode = _answer_rcode(zone, qname)
            node_key = f"answer/{index}"
            answer_row.append(
                _Node(
                    node_key,
                    qname,
                    f"{shown_type}" + (f" ({rcode})" if rcode and rcode != "NOERROR" else ""),
                    "answer",
                    colour,
                    f"{qname} {shown_type}",
                )
            )
            signers = zone.signers(Purpose.ANSWER, shown_type, "NSEC", "NSEC3")
            broken_answer = is_broken and broken_part == "answer"
            for signer in sorted(signers):
                source = key_nodes.get(signer)
                if source is None:
                    ghost = f"{zone.zone}/unpublished/{signer}"
                    nodes[ghost] = _Node(
                        ghost,
                        f"key {signer}",
                        "not published",
                        "ghost",
                        BROKEN,
                        f"the RRSIG names key {signer}, which {zone.zone} does not publish",
                    )
                    zsk_row.append(nodes[ghost])
                    if zsk_row not in box.rows:
                        box.rows.insert(len(box.rows), zsk_row)
                    source = nodes[ghost]
                edges.append(
                    _Edge(
                        source.key,
                        node_key,
                        code if broken_answer else "signs",
                        broken=broken_answer,
                        title=(cause.summary if cause and broken_answer else "") or "signs",
                    )
                )
            if not signers and broken_answer:
                edges.append(
                    _Edge(
                        (zsk_row or ksk_row)[0].key,
                        node_key,
                        code,
                        broken=True,
                        title=cause.summary if cause else "",
                    )
                )
            if index > 0:
                edges.append(_Edge(f"answer/{index - 1}", node_key, "CNAME"))
        if answer_row:
            box.rows.append(answer_row)
        for row in box.rows:
            for node in row:
                nodes[node.key] = node
        box.measure()

    # The links between zones: the parent's keys sign the child's DS RRset; the trust
    # anchor names the root's key.
    roots: list[_Box] = []
    for name, box in boxes.items():
        zone = box.zone
        parent = boxes.get(zone.parent or "")
        if parent is None:
            roots.append(box)
            for node in box.rows[0] if box.rows else []:
                if (node.kind == "ksk" and _tag(node) in anchor_tags) or node.kind == "ghost":
                    broken = broken_zone == name and broken_part == "ds"
                    edges.append(_Edge("anchor", node.key, code if broken else "trusts", broken))
            continue
        parent.children.append(box)
        ds_signers = zone.signers(Purpose.DS, "DS")
        parent_keys = {_tag(n): n for row in parent.rows for n in row if n.kind in ("ksk", "zsk")}
        ds_nodes = [n for n in box.rows[0] if n.kind == "ds"] if box.rows else []
        linked = False
        for signer in sorted(ds_signers):
            if signer in parent_keys:
                for ds_node in ds_nodes:
                    edges.append(_Edge(parent_keys[signer].key, ds_node.key, "signs"))
                    linked = True
        if not linked:
            broken = broken_zone == name and broken_part == "delegation"
            edges.append(
                _Edge(
                    f"box:{zone.parent}",
                    f"box:{name}",
                    code if broken else ("delegates, no DS" if not ds_nodes else "delegates"),
                    broken=broken,
                    title=cause.summary if broken and cause else "delegation",
                )
            )

    # Layout: each box under its parent, siblings side by side.
    anchor_h = NODE_H + ZONE_GAP
    content_w = sum(r.subtree_width() for r in roots) + GAP * 2 * (len(roots) - 1)
    total_w = max(content_w, 540) + 2 * MARGIN
    x: float = (total_w - content_w) / 2  # the tree centred above the caption
    for root in roots:
        _place(root, x, MARGIN + anchor_h)
        x += root.subtree_width() + GAP * 2
    anchor.x = (roots[0].x + roots[0].width / 2 - NODE_W / 2) if roots else MARGIN
    anchor.y = MARGIN
    bottom = max((b.y + b.height for b in boxes.values()), default=MARGIN + anchor_h)
    caption = [
        (piece, colour)
        for line, colour in _caption(report, cause)
        for piece in textwrap.wrap(line, int((total_w - 2 * MARGIN) / 7.2)) or [""]
    ]
    height = bottom + MARGIN + 18 * len(caption) + 8

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chain" role="img" '
        f'viewBox="0 0 {total_w:.0f} {height:.0f}" width="{total_w:.0f}" '
        f'height="{height:.0f}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" '
        f'font-size="12">',
        f"<title>{text(_summary_title(report))}</title>",
        "<defs>",
        _marker("arrow", EDGE),
        _marker("arrow-broken", BROKEN),
        "</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for box in boxes.values():
        parts.append(_draw_box(box))
    for node in nodes.values():
        parts.append(_draw_node(node))
    for edge in edges:
        parts.append(_draw_edge(edge, nodes, boxes))
    y = bottom + MARGIN + 4
    for line, colour in caption:
        parts.append(
            f'<text x="{MARGIN}" y="{y:.0f}" fill="{colour}" font-size="13">{text(line)}</text>'
        )
        y += 18
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _tag(node: _Node) -> int:
    try:
        return int(node.key.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return -1


def _zone_of(qname: str, zones: Iterable[ZoneAssessment]) -> str | None:
    name = dns.name.from_text(qname)
    holders = [z.zone for z in zones if name.is_subdomain(dns.name.from_text(z.zone))]
    return max(holders, key=lambda z: len(dns.name.from_text(z)), default=None)


def _answer_rcode(zone: ZoneAssessment, qname: str) -> str | None:
    name = dns.name.from_text(qname)
    return next((rcode for asked, rcode in zone.answer_rcodes if asked == name), None)


def _place(box: _Box, left: float, top: float) -> None:
    span = box.subtree_width()
    box.x = left + (span - box.width) / 2
    box.y = top
    for index, row in enumerate(box.rows):
        row_w = len(row) * (NODE_W + GAP) - GAP
        x = box.x + (box.width - row_w) / 2
        y = box.y + HEADER + PAD + index * (NODE_H + ROW_GAP)
        for node in row:
            node.x, node.y = x, y
            x += NODE_W + GAP
    below = sum(c.subtree_width() for c in box.children) + GAP * 2 * (len(box.children) - 1)
    x = left + (span - below) / 2
    for child in box.children:
        _place(child, x, top + box.height + ZONE_GAP)
        x += child.subtree_width() + GAP * 2


def _marker(name: str, colour: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
    )


def _draw_box(box: _Box) -> str:
    zone = box.zone
    colour = BROKEN if box.broken else COLOURS.get(zone.state, EDGE)
    name = _clip(zone.zone, box.width - 110)
    return (
        f'<g class="zone" data-zone="{text(zone.zone)}" data-state="{text(zone.state.value)}">'
        f"<title>{text(zone.zone)}: {text(zone.state.value)}</title>"
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="10" fill="{colour}" fill-opacity="0.06" '
        f'stroke="{colour}" stroke-width="{3 if box.broken else 1.5}"/>'
        f'<text x="{box.x + 12:.1f}" y="{box.y + 20:.1f}" font-weight="600" '
        f'font-size="13">{text(name)}</text>'
        f'<text x="{box.x + box.width - 12:.1f}" y="{box.y + 20:.1f}" text-anchor="end" '
        f'fill="{colour}" font-weight="600">{text(zone.state.value)}</text></g>'
    )


def _draw_node(node: _Node) -> str:
    dashed = ' stroke-dasharray="5 3"' if node.kind == "ghost" else ""
    fill = {"ksk": "#fff8c5", "zsk": "#ddf4ff", "ds": "#f6f8fa", "answer": "#ffffff"}.get(
        node.kind, "#ffffff"
    )
    radius = 18 if node.kind == "answer" else 6
    return (
        f'<g class="node {text(node.kind)}" data-key="{text(node.key)}">'
        f"<title>{text(node.title)}</title>"
        f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_W}" height="{NODE_H}" '
        f'rx="{radius}" fill="{fill}" stroke="{node.colour}" stroke-width="1.5"{dashed}/>'
        f'<text x="{node.x + NODE_W / 2:.1f}" y="{node.y + 16:.1f}" text-anchor="middle" '
        f'font-weight="600">{text(_clip(node.label, NODE_W - 10))}</text>'
        f'<text x="{node.x + NODE_W / 2:.1f}" y="{node.y + 31:.1f}" text-anchor="middle" '
        f'fill="#57606a" font-size="11">{text(_clip(node.detail, NODE_W - 10))}</text></g>'
    )


def _anchor_point(
    key: str, nodes: dict[str, _Node], boxes: dict[str, _Box], *, top: bool
) -> tuple[float, float] | None:
    if key.startswith("box:"):
        box = boxes.get(key[4:])
        if box is None:
            return None
        return box.x + box.width / 2, box.y if top else box.y + box.height
    node = nodes.get(key)
    if node is None:
        return None
    return node.x + NODE_W / 2, node.y if top else node.y + NODE_H


def _draw_edge(edge: _Edge, nodes: dict[str, _Node], boxes: dict[str, _Box]) -> str:
    start = _anchor_point(edge.source, nodes, boxes, top=False)
    end = _anchor_point(edge.target, nodes, boxes, top=True)
    if start is None or end is None:
        return ""
    (x1, y1), (x2, y2) = start, end
    source, target = nodes.get(edge.source), nodes.get(edge.target)
    if source is not None and target is not None and source.y == target.y:
        # Side by side (a CNAME to the next answer): from one's side to the other's.
        sign = 1 if target.x > source.x else -1
        x1, x2 = (
            source.x + NODE_W / 2 + sign * NODE_W / 2,
            target.x + NODE_W / 2 - sign * NODE_W / 2,
        )
        y1 = y2 = source.y + NODE_H / 2
    elif y2 < y1:  # pointing upwards (a ZSK signing a KSK): leave from the top instead
        y1 -= NODE_H
        y2 += NODE_H
    colour = BROKEN if edge.broken else EDGE
    marker = "arrow-broken" if edge.broken else "arrow"
    dash = ' stroke-dasharray="6 4"' if edge.broken else ""
    mid = (y1 + y2) / 2
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
    label = ""
    if edge.label:
        lx, ly = (x1 + x2) / 2, mid + 4
        weight = ' font-weight="700"' if edge.broken else ""
        mark = "✗ " if edge.broken else ""
        width = len(mark + edge.label) * CHAR_W * 0.95 + 10
        label = (
            f'<rect x="{lx - width / 2:.1f}" y="{ly - 12:.1f}" width="{width:.1f}" height="16" '
            f'rx="4" fill="#ffffff" fill-opacity="0.9"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" font-size="11" '
            f'fill="{colour}"{weight}>{text(mark + edge.label)}</text>'
        )
    classes = "edge broken" if edge.broken else "edge"
    return (
        f'<g class="{classes}"><title>{text(edge.title or edge.label)}</title>'
        f'<path d="{path}" fill="none" stroke="{colour}" '
        f'stroke-width="{2.5 if edge.broken else 1.4}"{dash} marker-end="url(#{marker})"/>'
        f"{label}</g>"
    )


def _summary_title(report: Report) -> str:
    diagnosis = report.diagnosis
    return (
        f"Chain of trust for {diagnosis.name} {diagnosis.rdtype}: {diagnosis.verdict.value}. "
        f"{headline_text(diagnosis)}"
    )


def _caption(report: Report, cause: Finding | None) -> list[tuple[str, str]]:
    diagnosis = report.diagnosis
    lines = [
        (
            f"{diagnosis.name} {diagnosis.rdtype}: {diagnosis.verdict.value.upper()}",
            COLOURS.get(ChainState(diagnosis.verdict.value), EDGE),
        )
    ]
    if cause is not None:
        lines.append((f"✗ {cause.code}: {cause.summary}", BROKEN))
    lines.append(("arrows: who vouches for what (DS names a key; a key signs a record set)", EDGE))
    return lines
