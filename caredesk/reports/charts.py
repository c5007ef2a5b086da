"""A site's response times over the month (daily p50 and p95) as SVG and as PNG.

Both are drawn from the same geometry: the SVG goes inline into the PDF and
the staff preview; the PNG goes into the email, attached by Content-ID,
because Gmail and Outlook show neither inline SVG nor data: URLs reliably.
"""

import io
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 26
P50_COLOUR, P95_COLOUR, GRID, TEXT = "#2563a8", "#d97706", "#e3e6ec", "#5b6478"
PNG_SCALE = 2  # drawn twice as large, shown at WIDTH: sharp on high-density screens


@dataclass(frozen=True)
class Geometry:
    days: int
    y_max: int
    p50: list[list[tuple[float, float]]]  # polylines, split where a day has no data
    p95: list[list[tuple[float, float]]]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def _nice_max(value: int) -> int:
    for step in (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 30000):
        if value <= step:
            return step
    return value


def geometry(daily: list[list], month_days: int) -> Geometry | None:
    """Scaled points for ``daily`` rows of [ISO day, p50 ms, p95 ms]; None without data."""
    values = [v for _, p50, p95 in daily for v in (p50, p95) if v is not None]
    if not values:
        return None
    y_max = _nice_max(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: int) -> float:
        return LEFT + (day - 1 + 0.5) * plot_w / month_days

    def y(ms: int) -> float:
        return TOP + plot_h - ms * plot_h / y_max

    lines: dict[int, list[list[tuple[float, float]]]] = {1: [], 2: []}
    previous: dict[int, int | None] = {1: None, 2: None}
    for row in daily:
        day = date.fromisoformat(row[0]).day
        for index in (1, 2):
            value = row[index]
            if value is None:
                continue
            if previous[index] is None or day - previous[index] > 1:
                lines[index].append([])
            lines[index][-1].append((round(x(day), 1), round(y(value), 1)))
            previous[index] = day
    y_ticks = [(round(y(y_max * n / 4), 1), f"{y_max * n // 4} ms") for n in range(5)]
    x_ticks = [(round(x(d), 1), str(d)) for d in (1, 8, 15, 22, month_days)]
    return Geometry(month_days, y_max, lines[1], lines[2], y_ticks, x_ticks)


def svg(shape: Geometry | None, title: str) -> str:
    """The chart as an SVG element (safe to place in a template as is)."""
    if shape is None:
        return ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for y_pos, label in shape.y_ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_pos}" y2="{y_pos}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y_pos + 4}" text-anchor="end" font-size="10" '
            f'fill="{TEXT}" font-family="DejaVu Sans, Arial, sans-serif">{label}</text>'
        )
    for x_pos, label in shape.x_ticks:
        parts.append(
            f'<text x="{x_pos}" y="{HEIGHT - 8}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT}" font-family="DejaVu Sans, Arial, sans-serif">{label}</text>'
        )
    for lines, colour in ((shape.p95, P95_COLOUR), (shape.p50, P50_COLOUR)):
        for line in lines:
            points = " ".join(f"{px},{py}" for px, py in line)
            if len(line) == 1:
                px, py = line[0]
                parts.append(f'<circle cx="{px}" cy="{py}" r="2.5" fill="{colour}"/>')
            else:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    'stroke-width="2" stroke-linejoin="round"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def png(shape: Geometry | None) -> bytes | None:
    """The same chart as a PNG (twice the size, for sharp rendering), or None without data."""
    if shape is None:
        return None
    s = PNG_SCALE
    image = Image.new("RGB", (WIDTH * s, HEIGHT * s), "white")
    draw = ImageDraw.Draw(image)
    font = _font(10 * s)
    for y_pos, label in shape.y_ticks:
        draw.line([(LEFT * s, y_pos * s), ((WIDTH - RIGHT) * s, y_pos * s)], fill=GRID, width=s)
        draw.text(((LEFT - 6) * s, y_pos * s), label, fill=TEXT, font=font, anchor="rm")
    for x_pos, label in shape.x_ticks:
        draw.text((x_pos * s, (HEIGHT - 8) * s), label, fill=TEXT, font=font, anchor="ms")
    for lines, colour in ((shape.p95, P95_COLOUR), (shape.p50, P50_COLOUR)):
        for line in lines:
            points = [(px * s, py * s) for px, py in line]
            if len(points) == 1:
                px, py = points[0]
                draw.ellipse([px - 3 * s, py - 3 * s, px + 3 * s, py + 3 * s], fill=colour)
            else:
                draw.line(points, fill=colour, width=2 * s, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
