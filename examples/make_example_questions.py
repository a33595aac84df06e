#!/usr/bin/env python3
"""Draws the small bundled questions tree in examples/questions/.

Standard library only (PNG written with zlib + struct), and deterministic: running it again
rewrites byte-identical files, so the committed tree can be checked against the script.

    python3 examples/make_example_questions.py [output_dir]

Layout written (see include/vmeval/questions/question.hpp):
    <out>/maze_task/maze_000{0,1,2}/        a grid maze, green dot to move to the red goal
    <out>/rotation_task/rotation_000{0,1}/  a shape to rotate by a stated angle
    <out>/sorting_task/sorting_000{0,1}/    coloured bars to sort by height
Every question has first_frame.png and prompt.txt; all but sorting_0001 have final_frame.png,
so that a baseline which needs a final frame visibly fails on that one.
"""

import math
import os
import struct
import sys
import zlib

WIDTH, HEIGHT = 256, 192

WHITE = (255, 255, 255)
BACKGROUND = (246, 244, 238)
WALL = (40, 44, 52)
GREEN = (46, 170, 80)
RED = (214, 48, 49)
BLUE = (48, 110, 214)
ORANGE = (240, 140, 30)
GREY = (200, 200, 200)
BAR_COLOURS = [(214, 48, 49), (240, 140, 30), (232, 200, 40), (46, 170, 80), (48, 110, 214),
               (140, 70, 190)]


class Canvas:
    def __init__(self, width=WIDTH, height=HEIGHT, colour=BACKGROUND):
        self.width = width
        self.height = height
        self.px = bytearray(bytes(colour) * (width * height))

    def set(self, x, y, colour):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.px[i:i + 3] = bytes(colour)

    def rect(self, x0, y0, x1, y1, colour):
        """Fills [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        if x0 >= x1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(max(0, y0), min(self.height, y1)):
            i = (y * self.width + x0) * 3
            self.px[i:i + len(row)] = row

    def disc(self, cx, cy, r, colour):
        for y in range(int(cy - r), int(cy + r) + 2):
            for x in range(int(cx - r), int(cx + r) + 2):
                if (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r:
                    self.set(x, y, colour)

    def polygon(self, points, colour):
        """Even-odd fill, sampling pixel centres."""
        ys = [p[1] for p in points]
        for y in range(max(0, int(min(ys))), min(self.height, int(max(ys)) + 2)):
            sy = y + 0.5
            crossings = []
            for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1]):
                if (ay <= sy < by) or (by <= sy < ay):
                    crossings.append(ax + (sy - ay) * (bx - ax) / (by - ay))
            crossings.sort()
            for left, right in zip(crossings[0::2], crossings[1::2]):
                first = max(0, math.ceil(left - 0.5))
                for x in range(first, min(self.width, math.ceil(right - 0.5))):
                    self.set(x, y, colour)

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class Rng:
    """xorshift32: Python's random module may change between versions; this never does."""

    def __init__(self, seed):
        self.state = seed or 1

    def below(self, n):
        s = self.state
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.state = s
        return s % n


# ---------------------------------------------------------------------------------------------
# Mazes


def carve_maze(cols, rows, seed):
    """Depth-first maze; returns the set of open passages as frozenset({cell_a, cell_b})."""
    rng = Rng(seed)
    seen = {(0, 0)}
    stack = [(0, 0)]
    open_ = set()
    while stack:
        cx, cy = stack[-1]
        nbrs = [(cx + dx, cy + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= cx + dx < cols and 0 <= cy + dy < rows and (cx + dx, cy + dy) not in seen]
        if not nbrs:
            stack.pop()
            continue
        nxt = nbrs[rng.below(len(nbrs))]
        open_.add(frozenset(((cx, cy), nxt)))
        seen.add(nxt)
        stack.append(nxt)
    return open_


def draw_maze(cols, rows, passages, dot_cell, goal_cell):
    c = Canvas()
    margin = 10  # keeps the outer walls whole
    cell = min((WIDTH - 2 * margin) // cols, (HEIGHT - 2 * margin) // rows)
    ox = (WIDTH - cell * cols) // 2
    oy = (HEIGHT - cell * rows) // 2
    c.rect(ox, oy, ox + cell * cols, oy + cell * rows, WHITE)
    t = max(3, cell // 10)  # wall thickness
    for y in range(rows):
        for x in range(cols):
            x0, y0 = ox + x * cell, oy + y * cell
            if y == 0 or frozenset(((x, y), (x, y - 1))) not in passages:
                c.rect(x0 - t // 2, y0 - t // 2, x0 + cell + t - t // 2, y0 + t - t // 2, WALL)
            if x == 0 or frozenset(((x, y), (x - 1, y))) not in passages:
                c.rect(x0 - t // 2, y0 - t // 2, x0 + t - t // 2, y0 + cell + t - t // 2, WALL)
    c.rect(ox - t // 2, oy + rows * cell - t // 2, ox + cols * cell + t - t // 2,
           oy + rows * cell + t - t // 2, WALL)
    c.rect(ox + cols * cell - t // 2, oy - t // 2, ox + cols * cell + t - t // 2,
           oy + rows * cell + t - t // 2, WALL)

    def centre(cell_xy):
        return ox + cell_xy[0] * cell + cell / 2, oy + cell_xy[1] * cell + cell / 2

    gx, gy = centre(goal_cell)
    c.disc(gx, gy, cell * 0.32, RED)
    dx, dy = centre(dot_cell)
    c.disc(dx, dy, cell * 0.26, GREEN)
    return c


MAZES = [
    # id, columns, rows, seed, start cell, goal cell
    ("maze_0000", 8, 6, 7, (0, 0), (7, 5)),
    ("maze_0001", 8, 6, 2024, (0, 5), (7, 0)),
    ("maze_0002", 4, 3, 11, (0, 0), (3, 2)),
]

MAZE_PROMPT = (
    "A top-down view of a maze with dark walls. Move the green dot through the open corridors, "
    "never crossing a wall, until it reaches the red goal in the {corner} corner. The walls and "
    "the goal stay still; the camera does not move."
)


def corner_name(cell, cols, rows):
    vertical = "top" if cell[1] == 0 else "bottom" if cell[1] == rows - 1 else "middle"
    horizontal = "left" if cell[0] == 0 else "right" if cell[0] == cols - 1 else "centre"
    return vertical + "-" + horizontal


# ---------------------------------------------------------------------------------------------
# Rotations

ARROW = [(-50, -12), (10, -12), (10, -32), (52, 0), (10, 32), (10, 12), (-50, 12)]
L_SHAPE = [(-36, -48), (-12, -48), (-12, 24), (36, 24), (36, 48), (-36, 48)]

ROTATIONS = [
    # id, shape, colour, colour name, shape name, degrees clockwise
    ("rotation_0000", ARROW, BLUE, "blue", "arrow", 90),
    ("rotation_0001", L_SHAPE, ORANGE, "orange", "L-shaped block", 180),
]


def draw_shape(points, colour, degrees):
    c = Canvas()
    # A faint cross marks the centre, so that a rotation about the wrong point is visible.
    c.rect(WIDTH // 2 - 1, 20, WIDTH // 2 + 1, HEIGHT - 20, GREY)
    c.rect(40, HEIGHT // 2 - 1, WIDTH - 40, HEIGHT // 2 + 1, GREY)
    a = math.radians(degrees)  # clockwise on screen, since y grows downwards
    pts = [(WIDTH / 2 + x * math.cos(a) - y * math.sin(a),
            HEIGHT / 2 + x * math.sin(a) + y * math.cos(a)) for x, y in points]
    c.polygon(pts, colour)
    return c


# ---------------------------------------------------------------------------------------------
# Sorting

SORTS = [
    # id, bar heights left to right (pixels), whether to write a final frame
    ("sorting_0000", [90, 40, 140, 65, 115], True),
    ("sorting_0001", [60, 150, 35, 125, 85, 105], False),
]


def draw_bars(heights, colours):
    c = Canvas()
    n = len(heights)
    gap = 8
    bar = (WIDTH - 40 - gap * (n - 1)) // n
    x = (WIDTH - (bar * n + gap * (n - 1))) // 2
    base = HEIGHT - 16
    c.rect(12, base, WIDTH - 12, base + 3, WALL)
    for h, col in zip(heights, colours):
        c.rect(x, base - h, x + bar, base, col)
        x += bar + gap
    return c


# ---------------------------------------------------------------------------------------------


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_question(out, domain, task_id, first, final, prompt):
    d = os.path.join(out, domain + "_task", task_id)
    write(os.path.join(d, "first_frame.png"), first.png())
    if final is not None:
        write(os.path.join(d, "final_frame.png"), final.png())
    elif os.path.exists(os.path.join(d, "final_frame.png")):
        os.remove(os.path.join(d, "final_frame.png"))
    write(os.path.join(d, "prompt.txt"), (prompt + "\n").encode("utf-8"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "questions")

    for task_id, cols, rows, seed, start, goal in MAZES:
        passages = carve_maze(cols, rows, seed)
        first = draw_maze(cols, rows, passages, start, goal)
        final = draw_maze(cols, rows, passages, goal, goal)
        prompt = MAZE_PROMPT.format(corner=corner_name(goal, cols, rows))
        write_question(out, "maze", task_id, first, final, prompt)

    for task_id, shape, colour, colour_name, shape_name, degrees in ROTATIONS:
        first = draw_shape(shape, colour, 0)
        final = draw_shape(shape, colour, degrees)
        prompt = (f"A {colour_name} {shape_name} lies on a plain background. Rotate it "
                  f"{degrees} degrees clockwise about the centre of the image, smoothly and at a "
                  f"steady speed, without changing its size or colour. Nothing else moves.")
        write_question(out, "rotation", task_id, first, final, prompt)

    for task_id, heights, with_final in SORTS:
        colours = BAR_COLOURS[:len(heights)]
        first = draw_bars(heights, colours)
        order = sorted(range(len(heights)), key=lambda i: heights[i])
        final = draw_bars([heights[i] for i in order], [colours[i] for i in order])
        prompt = (f"{len(heights)} coloured bars stand on a dark line. Slide the bars sideways, "
                  "one at a time, until they are sorted by height: shortest on the left, tallest "
                  "on the right. Each bar keeps its colour and height.")
        write_question(out, "sorting", task_id, first, final if with_final else None, prompt)

    print("wrote example questions to", out)


if __name__ == "__main__":
    main()
