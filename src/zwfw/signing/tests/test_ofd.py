"""OFD (GB/T 33190) writer: package structure, text, embedded font subset, signature digests."""

from __future__ import annotations

import base64
import datetime as dt
import io
import posixpath
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image, ImageChops, ImageDraw, ImageFont
from reportlab.pdfbase.ttfonts import TTFontFile

from zwfw.cases import fonts
from zwfw.core.crypto import sm2_generate_key, sm2_sign, sm2_verify, sm3
from zwfw.signing.ofd import (
    OFD_NS,
    SM2_SM3_OID,
    SM3_OID,
    OfdError,
    OfdImage,
    OfdLine,
    OfdPage,
    OfdRect,
    OfdSignature,
    OfdStamp,
    OfdText,
    build_ofd,
    check_ofd,
    finish_ofd,
    read_ofd_text,
    signature_xml_to_sign,
    subset_truetype,
    write_ofd,
)

NS = {"ofd": OFD_NS}
LINES = [
    "中华人民共和国电子证照",
    "营业执照（测试样本）",
    "统一社会信用代码：91350100M000100Y43",
    "名称：厦门市示例科技有限公司",
    "登记机关：厦门市市场监督管理局  2025年6月1日",
]
SIGNED_AT = dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def font() -> tuple[str, int]:
    status = fonts.font_status()
    if not status["embedded"]:
        pytest.skip("no TrueType CJK font installed (apt-get install fonts-wqy-zenhei)")
    return status["path"], dict(fonts.CANDIDATES).get(status["path"], 0)


@pytest.fixture(scope="module")
def seal_png() -> bytes:
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 232, 232), outline=(220, 0, 0, 255), width=10)
    draw.regular_polygon((120, 120, 40), 5, fill=(220, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _page() -> OfdPage:
    texts = [OfdText(25, 30 + 12 * i, line, size=5 if i else 7) for i, line in enumerate(LINES)]
    return OfdPage(
        objects=[
            OfdRect(15, 15, 180, 110, line_width=0.5, stroke=(180, 0, 0)),
            OfdLine(25, 42, 185, 42, width=0.3),
            *texts,
            OfdImage("seal", 140, 80, 40, 40),
        ]
    )


def _build(font: tuple[str, int], seal_png: bytes, **kwargs: object) -> bytes:
    path, index = font
    options: dict[str, object] = {
        "title": "营业执照",
        "author": "厦门市市场监督管理局",
        "font_path": path,
        "font_index": index,
        "images": {"seal": seal_png},
        "doc_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "created": dt.date(2025, 6, 1),
        **kwargs,
    }
    return write_ofd([_page()], **options)  # type: ignore[arg-type]


def _placeholder() -> OfdSignature:
    return OfdSignature(
        signed_value=b"\x30\x03\x02\x01\x00", stamp=OfdStamp(140, 80, 40, 40), signed_at=SIGNED_AT
    )


def _xml_parts(archive: zipfile.ZipFile) -> dict[str, etree._Element]:
    return {
        name: etree.fromstring(archive.read(name))
        for name in archive.namelist()
        if name.endswith(".xml")
    }


def _rezip(data: bytes, changes: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, changes.pop(name, source.read(name)))
        for name, content in changes.items():
            target.writestr(name, content)
    return buffer.getvalue()


# --- structure ---------------------------------------------------------------------------------


def test_signed_package_structure(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    assert check_ofd(data) == []
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert archive.namelist()[0] == "OFD.xml"
    assert {
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/PublicRes.xml",
        "Doc_0/DocumentRes.xml",
        "Doc_0/Pages/Page_0/Content.xml",
        "Doc_0/Signs/Signatures.xml",
        "Doc_0/Signs/Sign_0/Signature.xml",
        "Doc_0/Signs/Sign_0/SignedValue.dat",
    } <= names
    xml = _xml_parts(archive)
    for name, root in xml.items():
        assert etree.QName(root).namespace == OFD_NS, name

    ofd = xml["OFD.xml"]
    assert (ofd.get("Version"), ofd.get("DocType")) == ("1.0", "OFD")
    info = ofd.find("ofd:DocBody/ofd:DocInfo", NS)
    assert [child.text for child in info][:4] == [
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "营业执照",
        "厦门市市场监督管理局",
        "2025-06-01",
    ]
    assert ofd.findtext("ofd:DocBody/ofd:DocRoot", namespaces=NS) == "Doc_0/Document.xml"
    assert ofd.findtext("ofd:DocBody/ofd:Signatures", namespaces=NS) == (
        "Doc_0/Signs/Signatures.xml"
    )

    document = xml["Doc_0/Document.xml"]
    common = document.find("ofd:CommonData", NS)
    assert [etree.QName(child).localname for child in common] == [
        "MaxUnitID",
        "PageArea",
        "PublicRes",
        "DocumentRes",
    ]
    assert common.findtext("ofd:PageArea/ofd:PhysicalBox", namespaces=NS) == "0 0 210 297"
    ids = [
        element.get("ID")
        for root in (xml["Doc_0/Document.xml"], xml["Doc_0/PublicRes.xml"])
        for element in root.iter()
        if element.get("ID")
    ]
    ids += [
        element.get("ID")
        for name in ("Doc_0/DocumentRes.xml", "Doc_0/Pages/Page_0/Content.xml")
        for element in xml[name].iter()
        if element.get("ID")
    ]
    assert len(ids) == len(set(ids))
    assert max(int(i) for i in ids) == int(common.findtext("ofd:MaxUnitID", namespaces=NS))


def test_every_reference_resolves_to_a_file(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    xml = _xml_parts(archive)

    def resolve(base: str, loc: str) -> str:
        return posixpath.normpath(loc[1:] if loc.startswith("/") else posixpath.join(base, loc))

    referenced = set()
    ofd = xml["OFD.xml"]
    for tag in ("DocRoot", "Signatures"):
        referenced.add(resolve("", ofd.findtext(f"ofd:DocBody/ofd:{tag}", namespaces=NS)))
    document = xml["Doc_0/Document.xml"]
    for tag in ("PublicRes", "DocumentRes"):
        res_path = resolve("Doc_0", document.findtext(f"ofd:CommonData/ofd:{tag}", namespaces=NS))
        referenced.add(res_path)
        res = xml[res_path]
        res_base = resolve(posixpath.dirname(res_path), res.get("BaseLoc"))
        for file_tag in ("FontFile", "MediaFile"):
            for element in res.iter(f"{{{OFD_NS}}}{file_tag}"):
                referenced.add(resolve(res_base, element.text))
    for page in document.iterfind("ofd:Pages/ofd:Page", NS):
        referenced.add(resolve("Doc_0", page.get("BaseLoc")))
    signatures = xml["Doc_0/Signs/Signatures.xml"]
    for entry in signatures.iterfind("ofd:Signature", NS):
        referenced.add(resolve("Doc_0/Signs", entry.get("BaseLoc")))
    signature = xml["Doc_0/Signs/Sign_0/Signature.xml"]
    for reference in signature.iterfind("ofd:SignedInfo/ofd:References/ofd:Reference", NS):
        referenced.add(resolve("Doc_0/Signs/Sign_0", reference.get("FileRef")))
    referenced.add(resolve("", signature.findtext("ofd:SignedValue", namespaces=NS)))

    assert referenced <= names
    assert names - referenced == set()  # nothing unreferenced either


def test_page_content(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png)
    archive = zipfile.ZipFile(io.BytesIO(data))
    page = etree.fromstring(archive.read("Doc_0/Pages/Page_0/Content.xml"))
    layer = page.find("ofd:Content/ofd:Layer", NS)
    kinds = [etree.QName(child).localname for child in layer]
    assert kinds == ["PathObject", "PathObject", *["TextObject"] * len(LINES), "ImageObject"]

    font_id = (
        etree.fromstring(archive.read("Doc_0/PublicRes.xml")).find(".//ofd:Font", NS).get("ID")
    )
    texts = layer.findall("ofd:TextObject", NS)
    for text, line in zip(texts, LINES, strict=True):
        assert text.get("Font") == font_id
        code = text.find("ofd:TextCode", NS)
        assert code.text == line
        deltas = [float(value) for value in code.get("DeltaX").split()]
        assert len(deltas) == len(line) - 1
        _x, _y, width, height = (float(v) for v in text.get("Boundary").split())
        size = float(text.get("Size"))
        # CJK characters are one em wide in WenQuanYi Zen Hei; the box holds the whole line.
        assert deltas[0] == pytest.approx(size, abs=0.01)
        assert sum(deltas) < width <= sum(deltas) + size + 0.001
        assert 0 < float(code.get("Y")) < height
    image = layer.find("ofd:ImageObject", NS)
    assert (image.get("Boundary"), image.get("CTM")) == ("140 80 40 40", "40 0 0 40 0 0")
    media = etree.fromstring(archive.read("Doc_0/DocumentRes.xml")).find(".//ofd:MultiMedia", NS)
    assert (media.get("ID"), media.get("Type"), media.get("Format")) == (
        image.get("ResourceID"),
        "Image",
        "PNG",
    )
    assert archive.read("Doc_0/Res/" + media.findtext("ofd:MediaFile", namespaces=NS)) == seal_png
    path = layer.find("ofd:PathObject", NS)
    assert path.findtext("ofd:AbbreviatedData", namespaces=NS).startswith("M ")
    assert path.find("ofd:StrokeColor", NS).get("Value") == "180 0 0"


def test_text_extracted_equals_input(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    assert read_ofd_text(data) == "\n".join(LINES)


def test_pages_of_other_sizes_and_text_order(font: tuple[str, int]) -> None:
    path, index = font
    pages = [
        OfdPage(objects=[OfdText(10, 10, "第一页"), OfdText(10, 20, "受理通知书")]),
        OfdPage(objects=[OfdText(10, 10, "第二页 A5")], width=148, height=210),
    ]
    data = write_ofd(pages, title="通知", author="测试", font_path=path, font_index=index)
    assert check_ofd(data) == []
    assert read_ofd_text(data) == "第一页\n受理通知书\f第二页 A5"
    archive = zipfile.ZipFile(io.BytesIO(data))
    second = etree.fromstring(archive.read("Doc_0/Pages/Page_1/Content.xml"))
    assert second.findtext("ofd:Area/ofd:PhysicalBox", namespaces=NS) == "0 0 148 210"
    first = etree.fromstring(archive.read("Doc_0/Pages/Page_0/Content.xml"))
    assert first.find("ofd:Area", NS) is None  # the document's default size
    assert "Doc_0/Signs/Signatures.xml" not in archive.namelist()


def test_same_input_same_bytes(font: tuple[str, int], seal_png: bytes) -> None:
    assert _build(font, seal_png, signature=_placeholder()) == _build(
        font, seal_png, signature=_placeholder()
    )


# --- embedded font ------------------------------------------------------------------------------


def test_embedded_font_is_a_subset_with_the_used_glyphs(
    font: tuple[str, int], seal_png: bytes
) -> None:
    data = _build(font, seal_png)
    archive = zipfile.ZipFile(io.BytesIO(data))
    res = etree.fromstring(archive.read("Doc_0/PublicRes.xml"))
    font_element = res.find("ofd:Fonts/ofd:Font", NS)
    assert font_element.get("FontName") == "WenQuanYiZenHei"
    assert font_element.get("FamilyName") == "WenQuanYi Zen Hei"
    font_file = "Doc_0/Res/" + font_element.findtext("ofd:FontFile", namespaces=NS)
    embedded = archive.read(font_file)
    assert embedded[:4] == b"\x00\x01\x00\x00"  # a TrueType font, not the whole collection
    assert len(embedded) < 1_000_000
    assert Path(font[0]).stat().st_size > 16_000_000

    # Readers find every character of the text in it, and draw it where the original font does
    # (within a pixel: the auto-hinter's global measurements see fewer glyphs in a subset).
    subset = ImageFont.truetype(io.BytesIO(embedded), 64)
    original = ImageFont.truetype(font[0], 64, index=font[1])
    for char in set("".join(LINES)) - {" "}:
        box, expected = subset.getbbox(char), original.getbbox(char)
        assert all(abs(a - b) <= 1 for a, b in zip(box, expected, strict=True)), char
        assert subset.getlength(char) == original.getlength(char)
    # Characters the document does not use are empty in the subset.
    assert _blank(subset, "龙")
    assert not _blank(original, "龙")


def _blank(font: ImageFont.FreeTypeFont, text: str) -> bool:
    image = Image.new("L", (200, 100), 0)
    ImageDraw.Draw(image).text((10, 10), text, font=font, fill=255)
    return image.getbbox() is None


def test_subset_keeps_outlines_and_metrics_bit_for_bit(
    font: tuple[str, int], tmp_path: Path
) -> None:
    raw = Path(font[0]).read_bytes()
    original = TTFontFile(font[0], subfontIndex=font[1])
    text = "受理通知书ABC123"
    glyph_ids = {original.charToGlyph[ord(char)] for char in text}
    subset_bytes = subset_truetype(raw, font[1], glyph_ids)
    assert subset_bytes is not None
    subset_path = tmp_path / "subset.ttf"
    subset_path.write_bytes(subset_bytes)
    subset = TTFontFile(str(subset_path))
    assert subset.charToGlyph == original.charToGlyph  # cmap unchanged
    assert subset.charWidths == original.charWidths  # hmtx unchanged
    assert subset.numGlyphs == original.numGlyphs
    for gid in glyph_ids:
        assert _glyph(subset_bytes, subset, gid) == _glyph(raw, original, gid)
        assert _glyph(subset_bytes, subset, gid)  # not empty
    other = original.charToGlyph[ord("国")]
    assert _glyph(subset_bytes, subset, other) == b""
    assert _glyph(raw, original, other)


def _glyph(data: bytes, face: TTFontFile, gid: int) -> bytes:
    start = face.table["glyf"]["offset"]
    return data[start + face.glyphPos[gid] : start + face.glyphPos[gid + 1]]


def test_whole_font_rebuilt_renders_identically(font: tuple[str, int]) -> None:
    # With every glyph kept, the rebuilt face draws exactly like the original: the table
    # directory, checksums, loca and post rewriting are sound. (With glyphs emptied, FreeType's
    # auto-hinter — WenQuanYi has no hinting of its own — measures blue zones on fewer glyphs,
    # so hinted pixels at small sizes may differ slightly; outlines are identical, see above.)
    raw = Path(font[0]).read_bytes()
    rebuilt = subset_truetype(raw, font[1], range(70_000))
    assert rebuilt is not None
    text = "名称：厦门市示例科技有限公司 91350100M000100Y43"

    def render(face: ImageFont.FreeTypeFont) -> Image.Image:
        image = Image.new("L", (1500, 80), 0)
        ImageDraw.Draw(image).text((5, 5), text, font=face, fill=255)
        return image

    original = render(ImageFont.truetype(font[0], 40, index=font[1]))
    copy = render(ImageFont.truetype(io.BytesIO(rebuilt), 40))
    assert original.getbbox() is not None
    assert ImageChops.difference(original, copy).getbbox() is None


def test_whole_font_can_be_embedded(font: tuple[str, int]) -> None:
    path, index = font
    data = write_ofd(
        [OfdPage(objects=[OfdText(10, 10, "证照")])],
        title="t",
        author="a",
        font_path=path,
        font_index=index,
        subset_font=False,
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    font_file = next(name for name in archive.namelist() if "/Res/font_" in name)
    assert font_file.endswith(".ttc")
    assert archive.read(font_file) == Path(path).read_bytes()
    assert check_ofd(data) == []


# --- signatures ---------------------------------------------------------------------------------


def test_two_step_signing(font: tuple[str, int], seal_png: bytes) -> None:
    path, index = font
    private_pem, public_pem = sm2_generate_key()
    package = build_ofd(
        [_page()],
        title="营业执照",
        author="测试",
        font_path=path,
        font_index=index,
        images={"seal": seal_png},
        signature=OfdSignature(stamp=OfdStamp(140, 80, 40, 40), signed_at=SIGNED_AT),
    )
    to_sign = signature_xml_to_sign(package)
    # The caller signs SM3(Signature.xml); a bare SM2 signature stands in for SES_Signature.
    signed_value = sm2_sign(private_pem, sm3(to_sign))
    data = finish_ofd(package, signed_value)
    assert check_ofd(data) == []

    archive = zipfile.ZipFile(io.BytesIO(data))
    stored = archive.read("Doc_0/Signs/Sign_0/Signature.xml")
    assert stored == to_sign
    assert archive.read("Doc_0/Signs/Sign_0/SignedValue.dat") == signed_value
    assert sm2_verify(public_pem, sm3(stored), signed_value)

    signature = etree.fromstring(stored)
    info = signature.find("ofd:SignedInfo", NS)
    assert [etree.QName(child).localname for child in info] == [
        "Provider",
        "SignatureMethod",
        "SignatureDateTime",
        "References",
        "StampAnnot",
    ]
    assert info.find("ofd:Provider", NS).get("ProviderName") == "zwfw"
    assert info.findtext("ofd:SignatureMethod", namespaces=NS) == SM2_SM3_OID
    assert info.findtext("ofd:SignatureDateTime", namespaces=NS) == "20250601083000Z"
    references = info.find("ofd:References", NS)
    assert references.get("CheckMethod") == SM3_OID
    digests = {
        reference.get("FileRef"): reference.findtext("ofd:CheckValue", namespaces=NS)
        for reference in references
    }
    protected = sorted(name for name in archive.namelist() if not name.startswith("Doc_0/Signs/"))
    assert sorted(ref[1:] for ref in digests) == protected
    for name in protected:
        assert digests["/" + name] == base64.b64encode(sm3(archive.read(name))).decode()
    stamp = info.find("ofd:StampAnnot", NS)
    page_id = etree.fromstring(archive.read("Doc_0/Document.xml")).find(".//ofd:Page", NS).get("ID")
    assert (stamp.get("PageRef"), stamp.get("Boundary")) == (page_id, "140 80 40 40")
    assert signature.findtext("ofd:SignedValue", namespaces=NS) == (
        "/Doc_0/Signs/Sign_0/SignedValue.dat"
    )
    signatures = etree.fromstring(archive.read("Doc_0/Signs/Signatures.xml"))
    entry = signatures.find("ofd:Signature", NS)
    assert (entry.get("Type"), entry.get("BaseLoc")) == (
        "Seal",
        "/Doc_0/Signs/Sign_0/Signature.xml",
    )


def test_tampered_content_is_reported(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    archive = zipfile.ZipFile(io.BytesIO(data))
    content = archive.read("Doc_0/Pages/Page_0/Content.xml")
    position = content.index(b"91350100M000100Y43")
    tampered = content[:position] + b"8" + content[position + 1 :]  # one byte: 9 → 8
    assert len(tampered) == len(content)
    changed = _rezip(data, {"Doc_0/Pages/Page_0/Content.xml": tampered})
    assert check_ofd(changed) == [
        "Doc_0/Signs/Sign_0/Signature.xml: digest of Doc_0/Pages/Page_0/Content.xml does not "
        "match its Reference"
    ]
    assert "81350100M000100Y43" in read_ofd_text(changed)


def test_tampered_font_and_added_file_are_reported(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    archive = zipfile.ZipFile(io.BytesIO(data))
    font_file = next(name for name in archive.namelist() if "/Res/font_" in name)
    font_bytes = bytearray(archive.read(font_file))
    font_bytes[-1] ^= 0x01
    changed = _rezip(data, {font_file: bytes(font_bytes), "Doc_0/Res/extra.png": seal_png})
    problems = check_ofd(changed)
    assert problems == [
        f"Doc_0/Signs/Sign_0/Signature.xml: digest of {font_file} does not match its Reference",
        "Doc_0/Signs/Sign_0/Signature.xml: Doc_0/Res/extra.png is not protected by the signature",
    ]


def test_missing_and_broken_parts_are_reported(font: tuple[str, int], seal_png: bytes) -> None:
    data = _build(font, seal_png, signature=_placeholder())
    archive = zipfile.ZipFile(io.BytesIO(data))
    image_file = next(name for name in archive.namelist() if "/Res/image_" in name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in archive.namelist():
            if name != image_file:
                target.writestr(name, archive.read(name))
    without_image = buffer.getvalue()
    problems = check_ofd(without_image)
    assert f"Doc_0/DocumentRes.xml MediaFile: {image_file} is missing" in problems

    broken = _rezip(data, {"Doc_0/Document.xml": b"<ofd:Document xmlns:ofd='x'>"})
    assert any("Doc_0/Document.xml is not well-formed XML" in p for p in check_ofd(broken))

    wrong_ns = archive.read("Doc_0/PublicRes.xml").replace(OFD_NS.encode(), b"urn:other")
    problems = check_ofd(_rezip(data, {"Doc_0/PublicRes.xml": wrong_ns}))
    assert any("Doc_0/PublicRes.xml: root element is {urn:other}Res" in p for p in problems)

    escaping = archive.read("OFD.xml").replace(b"Doc_0/Document.xml", b"../Document.xml")
    assert check_ofd(_rezip(data, {"OFD.xml": escaping})) == [
        "location ../Document.xml leaves the package"
    ]
    assert check_ofd(b"not a zip") == ["not a zip file"]
    with pytest.raises(OfdError):
        read_ofd_text(b"PK\x03\x04 broken")


def test_empty_signed_value_is_refused(font: tuple[str, int]) -> None:
    path, index = font
    package = build_ofd(
        [OfdPage(objects=[OfdText(10, 10, "证照")])],
        title="t",
        author="a",
        font_path=path,
        font_index=index,
        signature=OfdSignature(signed_at=SIGNED_AT),
    )
    with pytest.raises(ValueError, match="empty"):
        finish_ofd(package, b"")
    unsigned = build_ofd(
        [OfdPage(objects=[OfdText(10, 10, "证照")])],
        title="t",
        author="a",
        font_path=path,
        font_index=index,
    )
    with pytest.raises(ValueError, match="without a signature"):
        signature_xml_to_sign(unsigned)


@pytest.mark.parametrize(
    ("page", "images", "signature", "message"),
    [
        (OfdPage(objects=[OfdImage("seal", 0, 0, 10, 10)]), {}, None, "no image data for seal"),
        (
            OfdPage(objects=[OfdImage("seal", 0, 0, 10, 10)]),
            {"seal": b"GIF89a"},
            None,
            "PNG, JPEG or BMP",
        ),
        (OfdPage(objects=[OfdText(0, 0, "\U0001f600")]), {}, None, "no glyph"),
        (OfdPage(objects=[OfdText(0, 0, "两行\n文字")]), {}, None, "one line"),
        (
            OfdPage(objects=[OfdText(0, 0, "证照")]),
            {},
            OfdSignature(stamp=OfdStamp(0, 0, 40, 40, page=1), signed_at=SIGNED_AT),
            "stamp is on page 1",
        ),
        (
            OfdPage(objects=[OfdText(0, 0, "证照")]),
            {},
            OfdSignature(signed_at=dt.datetime(2025, 6, 1, 8, 30)),
            "timezone-aware",
        ),
    ],
)
def test_bad_input_is_refused(
    font: tuple[str, int],
    page: OfdPage,
    images: dict[str, bytes],
    signature: OfdSignature | None,
    message: str,
) -> None:
    path, index = font
    with pytest.raises(ValueError, match=message):
        build_ofd(
            [page],
            title="t",
            author="a",
            font_path=path,
            font_index=index,
            images=images,
            signature=signature,
        )


def test_entities_are_not_expanded(font: tuple[str, int], seal_png: bytes, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = _build(font, seal_png)
    name = "Doc_0/Pages/Page_0/Content.xml"
    content = zipfile.ZipFile(io.BytesIO(data)).read(name).decode()
    hostile = content.replace(
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>',
    ).replace(LINES[1], "&e;")
    assert "&e;" in hostile
    assert "<!DOCTYPE" in hostile
    changed = _rezip(data, {name: hostile.encode()})
    assert "TOP-SECRET" not in read_ofd_text(changed)
    assert "TOP-SECRET" not in " ".join(check_ofd(changed))
