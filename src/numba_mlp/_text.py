"""Plain-text tables for the command line (demo, bench, trace)."""


def text_table(header, rows, right_align=False):
    """Columns padded to their widest cell, a dashed rule under the header.

    ``right_align`` right-aligns every column but the first (for numbers).
    """
    cells = [[str(cell) for cell in header]] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[c]) for row in cells) for c in range(len(header))]

    def line(row):
        return "  ".join(
            cell.rjust(width) if right_align and c else cell.ljust(width)
            for c, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()

    lines = [line(row) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
