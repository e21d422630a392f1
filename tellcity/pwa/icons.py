"""The app's icons, drawn with Pillow: a white map pin on the site's blue (#0b5cad).

The PNGs are committed under static/icons/; after changing the design, draw them again with
`python -m tellcity.pwa.icons`. "any" icons are a rounded square on a transparent background;
the maskable one (and Apple's home screen icon) fills its square and keeps the pin inside the
central safe circle (a radius of 40% of its side), which the phone may crop to any shape.
"""

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (11, 92, 173, 255)
WHITE = (255, 255, 255, 255)
FOLDER = Path(__file__).resolve().parents[2] / "static" / "icons"
#: Drawn this many times larger, then reduced: smooth edges.
SUPERSAMPLE = 4

#: file name: (side in pixels, maskable)
ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),
}


def draw(side: int, *, maskable: bool) -> Image.Image:
    big = side * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BLUE)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=BLUE)
    _pin(pen, big, scale=0.62 if maskable else 0.8)
    return image.resize((side, side), Image.Resampling.LANCZOS)


def _pin(pen: ImageDraw.ImageDraw, big: int, scale: float) -> None:
    """A map pin centred in the square: a disc on a point, a blue hole in the disc."""
    unit = big * scale

    def at(x: float, y: float) -> tuple[float, float]:
        return big / 2 + x * unit, big / 2 + y * unit

    radius = 0.3
    centre_x, centre_y = at(0, -0.12)
    disc = radius * unit
    pen.ellipse((centre_x - disc, centre_y - disc, centre_x + disc, centre_y + disc), fill=WHITE)
    pen.polygon([at(-0.26, 0.03), at(0.26, 0.03), at(0, 0.44)], fill=WHITE)
    hole = 0.12 * unit
    pen.ellipse((centre_x - hole, centre_y - hole, centre_x + hole, centre_y + hole), fill=BLUE)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, (side, maskable) in ICONS.items():
        image = draw(side, maskable=maskable)
        if maskable:
            image = image.convert("RGB")  # opaque: nothing for the phone to fill
        # Two colours and their blends: a palette of 32 loses nothing one can see.
        image = image.quantize(32, method=Image.Quantize.FASTOCTREE)
        image.save(FOLDER / name, optimize=True)
        print(name, side, (FOLDER / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
