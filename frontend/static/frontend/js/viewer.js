// The material preview: three.js MeshPhysicalMaterial with the set's maps on a plane, sphere or cube,
// a light the user drags (light pad, or Shift+drag on the view), a room environment and 1×1..4×4 tiling.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { RoomEnvironment } from "three/addons/environments/RoomEnvironment.js";

// Map roles -> how three.js reads them. Colour maps are sRGB-encoded; the others are linear data.
const COLOUR_ROLES = new Set(["albedo", "specular"]);
const FOV = 40; // vertical field of view (degrees) of a landscape or square view
// Base colour without an albedo map: mid grey, so a normal-only or roughness-only set shows its relief.
const NO_ALBEDO = 0x808080;

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`Could not load ${url}`));
    image.src = url;
  });
}

/** roughness = 1 - glossiness, on the CPU once (three.js has no glossiness map). */
function invertedTexture(image) {
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < data.data.length; i += 4) {
    for (let c = 0; c < 3; c++) data.data[i + c] = 255 - data.data[i + c];
  }
  ctx.putImageData(data, 0, 0);
  return new THREE.CanvasTexture(canvas);
}

export class MaterialViewer {
  constructor(canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.toneMapping = THREE.NeutralToneMapping;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x20242c);
    const pmrem = new THREE.PMREMGenerator(this.renderer);
    this.scene.environment = pmrem.fromScene(new RoomEnvironment(), 0.04).texture;
    this.scene.environmentIntensity = 0.6;
    this.camera = new THREE.PerspectiveCamera(FOV, 4 / 3, 0.05, 50);
    this.camera.position.set(0, 0, 3.6);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => this.requestRender());

    this.light = new THREE.DirectionalLight(0xffffff, 2.5);
    this.scene.add(this.light, this.light.target);
    this.lightMarker = new THREE.Mesh(new THREE.SphereGeometry(0.03, 16, 8), new THREE.MeshBasicMaterial({ color: 0xffcc33 }));
    this.scene.add(this.lightMarker);
    this.setLight(0.35, 0.45);

    this.material = new THREE.MeshPhysicalMaterial({ color: NO_ALBEDO, roughness: 0.6, metalness: 0 });
    this.geometries = {
      plane: new THREE.PlaneGeometry(2, 2),
      sphere: new THREE.SphereGeometry(1, 128, 64),
      cube: new THREE.BoxGeometry(1.4, 1.4, 1.4),
    };
    for (const geometry of Object.values(this.geometries)) geometry.computeTangents();
    this.mesh = new THREE.Mesh(this.geometries.plane, this.material);
    this.scene.add(this.mesh);
    this.textures = [];
    this.frames = 0;

    this._wireShiftDrag();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.resize();
  }

  /** Loads {role: url}; returns the roles in use. */
  async setMaps(urls) {
    const m = this.material;
    for (const texture of this.textures) texture.dispose();
    this.textures = [];
    const load = async (role) => {
      const image = await loadImage(urls[role]);
      const texture = role === "glossiness" ? invertedTexture(image) : new THREE.Texture(image);
      texture.colorSpace = COLOUR_ROLES.has(role) ? THREE.SRGBColorSpace : THREE.NoColorSpace;
      texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
      texture.anisotropy = this.renderer.capabilities.getMaxAnisotropy();
      texture.needsUpdate = true;
      this.textures.push(texture);
      return texture;
    };
    const entries = await Promise.all(Object.keys(urls).map(async (role) => [role, await load(role)]));
    const maps = Object.fromEntries(entries);
    m.map = maps.albedo || null;
    m.color.set(maps.albedo ? 0xffffff : NO_ALBEDO);
    m.normalMap = maps.normal || null;
    m.roughnessMap = maps.roughness || maps.glossiness || null;
    m.roughness = m.roughnessMap ? 1 : 0.6;
    // F0 = the specular map: three.js takes F0 = min(((ior-1)/(ior+1))^2 * specularColor, 1), 0.04 at ior 1.5.
    m.specularColorMap = maps.specular || null;
    m.specularColor.setScalar(maps.specular ? 25 : 1);
    m.specularIntensity = 1;
    m.anisotropyMap = maps.anisotropy || null;
    m.anisotropy = maps.anisotropy ? 1 : 0;
    // Occlusion darkens the ambient (environment) light only, as in engines.
    m.aoMap = maps.ao || null;
    m.needsUpdate = true;
    this.setTiling(this.tiling || 1);
    return Object.keys(maps);
  }

  setShape(name) {
    this.mesh.geometry = this.geometries[name];
    // A cube face-on looks like the plane: turn it to show three faces and two edges.
    this.mesh.rotation.set(name === "cube" ? 0.45 : 0, name === "cube" ? -0.6 : 0, 0);
    this.requestRender();
  }

  setTiling(n) {
    this.tiling = n;
    for (const texture of this.textures) texture.repeat.set(n, n);
    this.requestRender();
  }

  /** Light direction from a point (x, y) of the unit disc: the light sits on the hemisphere facing the viewer. */
  setLight(x, y) {
    const r = Math.hypot(x, y);
    if (r > 0.98) { x *= 0.98 / r; y *= 0.98 / r; }
    this.lightXY = [x, y];
    const z = Math.sqrt(Math.max(0, 1 - x * x - y * y));
    this.light.position.set(x * 3, y * 3, z * 3);
    this.lightMarker.position.set(x * 1.45, y * 1.45, z * 1.45);
    this.requestRender();
    return this.lightXY;
  }

  setLightIntensity(v) { this.light.intensity = v; this.requestRender(); }
  setEnvironmentIntensity(v) { this.scene.environmentIntensity = v; this.requestRender(); }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.canvas.parentElement;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    // FOV is vertical: on a portrait view widen it so the horizontal extent stays that of a square view.
    this.camera.fov = w >= h ? FOV : THREE.MathUtils.radToDeg(2 * Math.atan(Math.tan(THREE.MathUtils.degToRad(FOV / 2)) / this.camera.aspect));
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  // Renders on demand (one frame per change), so an idle preview costs nothing.
  requestRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.renderer.render(this.scene, this.camera);
      this.frames += 1;
      this.canvas.dataset.frames = String(this.frames);
    });
  }

  _wireShiftDrag() {
    let dragging = false;
    const move = (event) => {
      const rect = this.canvas.getBoundingClientRect();
      const x = ((event.clientX - rect.left) / rect.width) * 2 - 1;
      const y = 1 - ((event.clientY - rect.top) / rect.height) * 2;
      const [lx, ly] = this.setLight(x, y);
      this.onLightMoved?.(lx, ly);
    };
    this.canvas.addEventListener("pointerdown", (event) => {
      if (!event.shiftKey) return;
      dragging = true;
      this.controls.enabled = false;
      this.canvas.setPointerCapture(event.pointerId);
      move(event);
    });
    this.canvas.addEventListener("pointermove", (event) => { if (dragging) move(event); });
    this.canvas.addEventListener("pointerup", () => { dragging = false; this.controls.enabled = true; });
  }
}

/** The round light pad: drag the dot or use the arrow keys. */
export function wireLightPad(pad, viewer) {
  const dot = pad.querySelector(".light-dot");
  const show = ([x, y]) => {
    dot.style.left = `${50 + x * 50}%`;
    dot.style.top = `${50 - y * 50}%`;
    // One ARIA value (left-right); the text tells both axes.
    pad.setAttribute("aria-valuenow", String(Math.round(x * 100)));
    pad.setAttribute("aria-valuetext", `light ${Math.round(x * 100)}% right, ${Math.round(y * 100)}% up`);
  };
  const fromEvent = (event) => {
    const rect = pad.getBoundingClientRect();
    show(viewer.setLight(((event.clientX - rect.left) / rect.width) * 2 - 1, 1 - ((event.clientY - rect.top) / rect.height) * 2));
  };
  let dragging = false;
  pad.addEventListener("pointerdown", (e) => { dragging = true; pad.setPointerCapture(e.pointerId); fromEvent(e); });
  pad.addEventListener("pointermove", (e) => { if (dragging) fromEvent(e); });
  pad.addEventListener("pointerup", () => { dragging = false; });
  pad.addEventListener("keydown", (e) => {
    const step = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, 0.05], ArrowDown: [0, -0.05] }[e.key];
    if (!step) return;
    e.preventDefault();
    const [x, y] = viewer.lightXY;
    show(viewer.setLight(x + step[0], y + step[1]));
  });
  viewer.onLightMoved = (x, y) => show([x, y]);
  show(viewer.lightXY);
}
