// Reads the focal length tags from a JPEG's EXIF block (enough for the capture page's warning).

const TAGS = { 0x920a: "FocalLength", 0xa405: "FocalLengthIn35mmFilm", 0x8769: "ExifIFD" };

/** {FocalLength?, FocalLengthIn35mmFilm?} from a JPEG ArrayBuffer; {} for other files or no EXIF. */
export function readFocalLength(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return {};
  let offset = 2;
  while (offset + 4 < view.byteLength) {
    const marker = view.getUint16(offset);
    const length = view.getUint16(offset + 2);
    if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) return readTiff(view, offset + 10);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) break;
    offset += 2 + length;
  }
  return {};
}

function readTiff(view, tiff) {
  const little = view.getUint16(tiff) === 0x4949;
  const u16 = (o) => view.getUint16(o, little);
  const u32 = (o) => view.getUint32(o, little);
  const out = {};
  const readIfd = (ifd, depth) => {
    if (depth > 2 || ifd + 2 > view.byteLength) return;
    const count = u16(ifd);
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * 12;
      if (entry + 12 > view.byteLength) return;
      const name = TAGS[u16(entry)];
      if (name === "ExifIFD") readIfd(tiff + u32(entry + 8), depth + 1);
      else if (name === "FocalLength") { const at = tiff + u32(entry + 8); out.FocalLength = u32(at) / (u32(at + 4) || 1); }
      else if (name === "FocalLengthIn35mmFilm") out.FocalLengthIn35mmFilm = u16(entry + 8);
    }
  };
  readIfd(tiff + u32(tiff + 4), 0);
  return out;
}
