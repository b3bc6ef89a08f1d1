// Copies the browser files the pages import from node_modules into frontend/static/frontend/vendor/,
// where Django (whitenoise) serves them: nothing is loaded from a CDN.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "frontend", "static", "frontend", "vendor");
const three = join(root, "node_modules", "three");

const files = {
  "build/three.module.js": "three/three.module.js",
  "build/three.core.js": "three/three.core.js",
  "examples/jsm/controls/OrbitControls.js": "three/addons/controls/OrbitControls.js",
  "examples/jsm/environments/RoomEnvironment.js": "three/addons/environments/RoomEnvironment.js",
  // GLTFLoader: the browser tests load our glTF/GLB exports with it (a real loader).
  "examples/jsm/loaders/GLTFLoader.js": "three/addons/loaders/GLTFLoader.js",
  "examples/jsm/utils/BufferGeometryUtils.js": "three/addons/utils/BufferGeometryUtils.js",
  "examples/jsm/utils/SkeletonUtils.js": "three/addons/utils/SkeletonUtils.js",
  "LICENSE": "three/LICENSE",
};
for (const [from, to] of Object.entries(files)) {
  mkdirSync(dirname(join(vendor, to)), { recursive: true });
  copyFileSync(join(three, from), join(vendor, to));
}
const version = JSON.parse(readFileSync(join(three, "package.json"), "utf8")).version;
console.log(`vendored three ${version} into ${vendor}`);
