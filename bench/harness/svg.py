"""A dependency-free SVG line chart (used when matplotlib is not installed)."""
from html import escape

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 460, 300, 70, 20, 40, 50
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")


def _nice_max(v: float) -> float:
    step = 10 ** (len(str(int(max(v, 1)))) - 1)
    return (int(v / step) + 1) * step


def chart(title: str, x_labels: list, series: dict, x_title: str, y_title: str, dx: int = 0) -> str:
    """One chart at horizontal offset dx; x is categorical (evenly spaced), y starts at 0."""
    ymax = _nice_max(max(max(v for v in ys if v is not None) for ys in series.values()))
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    x = lambda i: dx + PAD_L + (pw * i / max(1, len(x_labels) - 1))
    y = lambda v: PAD_T + ph * (1 - v / ymax)
    parts = [f'<text x="{dx + W / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{dx + PAD_L}" y1="{PAD_T + ph}" x2="{dx + PAD_L + pw}" y2="{PAD_T + ph}" stroke="black"/>',
             f'<line x1="{dx + PAD_L}" y1="{PAD_T}" x2="{dx + PAD_L}" y2="{PAD_T + ph}" stroke="black"/>',
             f'<text x="{dx + PAD_L + pw / 2}" y="{H - 8}" text-anchor="middle">{escape(x_title)}</text>',
             f'<text x="{dx + 14}" y="{PAD_T + ph / 2}" text-anchor="middle" '
             f'transform="rotate(-90 {dx + 14} {PAD_T + ph / 2})">{escape(y_title)}</text>']
    for k in range(5):
        v = ymax * k / 4
        parts.append(f'<line x1="{dx + PAD_L}" y1="{y(v)}" x2="{dx + PAD_L + pw}" y2="{y(v)}" stroke="#ddd"/>'
                     f'<text x="{dx + PAD_L - 5}" y="{y(v) + 4}" text-anchor="end">{v:,.0f}</text>')
    for i, label in enumerate(x_labels):
        parts.append(f'<text x="{x(i)}" y="{PAD_T + ph + 18}" text-anchor="middle">{escape(str(label))}</text>')
    for n, (name, ys) in enumerate(series.items()):
        color = COLORS[n % len(COLORS)]
        pts = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(ys) if v is not None)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<text x="{dx + PAD_L + 10}" y="{PAD_T + 14 + 16 * n}" fill="{color}">{escape(name)}</text>')
    return "\n".join(parts)


def document(charts: list) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(charts)}" height="{H}" '
            f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(charts) + "\n</svg>\n")
