"""The web front end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the real service: gunicorn, a Dramatiq worker and Redis, as tests/e2e starts them.

Set FRONTEND_SCREENSHOTS=docs/screenshots to refresh the README's screenshots while the tests run.
"""

import base64
import io
import os
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from tests.e2e.service import ROOT, start_service

CHROMIUM = Path("/usr/bin/chromium")
VENDORED_THREE = ROOT / "frontend/static/frontend/vendor/three/three.module.js"
PASSWORD = "correct horse battery staple"
BACKGROUND = (0x20, 0x24, 0x2C)  # the 3D view's clear colour

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: run frontend/setup.sh --browser"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: run frontend/setup.sh --browser")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 # WebGL without a GPU: ANGLE on SwiftShader, the software renderer Chromium ships.
                 "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def material_maps(size=128) -> dict[str, bytes]:
    """Albedo (coloured checker), normal (bumps, OpenGL convention), roughness (gradient), specular
    (grey F0) and anisotropy (direction turning down the map) PNGs, named the way artists name them."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    checker = ((np.floor(x * 4) + np.floor(y * 4)) % 2)[..., None]
    albedo = checker * np.array([200, 80, 40]) + (1 - checker) * np.array([40, 120, 200])
    bumps = np.sin(x * 8 * np.pi), np.sin(y * 8 * np.pi)
    normal = np.stack([0.4 * bumps[0], 0.4 * bumps[1], np.ones_like(x)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    roughness = 40 + 180 * x
    specular = np.full((size, size, 3), 60.0)
    angle = np.pi * y  # brushed direction turning down the map; strength 0.8
    anisotropy = np.stack([np.cos(angle) * 0.5 + 0.5, np.sin(angle) * 0.5 + 0.5, np.full_like(x, 0.8)], -1) * 255
    return {
        "brick_albedo.png": png(albedo.astype(np.uint8)),
        "brick_normal.png": png(((normal * 0.5 + 0.5) * 255).round().astype(np.uint8)),
        "brick_roughness.png": png(roughness.astype(np.uint8)),
        "brick_specular.png": png(specular.astype(np.uint8)),
        "brick_anisotropy.png": png(anisotropy.round().astype(np.uint8)),
    }


def texture_png(size=96) -> bytes:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    pixels = np.stack([128 + 100 * np.sin(x / 9), 128 + 100 * np.cos(y / 7), 128 + 60 * np.sin((x + y) / 11)], -1)
    return png(pixels.round().astype(np.uint8))


def files(named: dict[str, bytes]) -> list[dict]:
    return [{"name": name, "mimeType": "image/png", "buffer": data} for name, data in named.items()]


def drop_files(page, selector, named: dict[str, bytes]):
    """Drops files on an element the way a file manager does: dragover, then drop with a DataTransfer."""
    page.evaluate("""([selector, files]) => {
        const transfer = new DataTransfer();
        for (const [name, base64] of files) {
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
        }
        const zone = document.querySelector(selector);
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }
    }""", [selector, [[name, base64.b64encode(data).decode()] for name, data in named.items()]])


def snap(page, name):
    """Saves a small (palette) PNG of the page when FRONTEND_SCREENSHOTS names a folder."""
    folder = os.environ.get("FRONTEND_SCREENSHOTS")
    if not folder:
        return
    target = Path(folder) if Path(folder).is_absolute() else ROOT / folder
    target.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target / f"{name}.png", optimize=True)


@pytest.fixture(scope="module")
def service():
    running = start_service("embedded")
    running.manage("shell", "-c", "from django.contrib.auth import get_user_model as users\n"
                   f"u = users().objects.get(username='e2e'); u.set_password({PASSWORD!r}); u.save()\n"
                   "users().objects.create_user('bob', 'bob@example.com', 'pw-bob-123')\n"
                   "users().objects.create_user('vera', 'vera@example.com', 'pw-vera-123')")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser, service, width=1280):
    context = browser.new_context(base_url=service.base_url, viewport={"width": width, "height": 800}, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and not message.text.startswith("Failed to load resource")
            and page.errors.append(message.text))  # e.g. a shader that does not compile
    # Script errors, server errors and missing static files count; a 4xx answer to a bad form entry does not.
    page.on("response", lambda response: (response.status >= 500 or (response.status == 404 and "/static/" in response.url))
            and page.errors.append(f"{response.status} {response.url}"))
    return page


def sign_in(page, password=PASSWORD, username="e2e"):
    page.goto("/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


@pytest.fixture(scope="module")
def page(browser, service):
    page = new_page(browser, service)
    sign_in(page)
    page.wait_for_selector("h1:text-is('Projects')")
    yield page
    assert not page.errors, page.errors
    page.context.close()


@pytest.fixture(scope="module")
def project_url(page):
    """Creates a project through the projects page; returns its page URL."""
    page.goto("/")
    page.wait_for_selector(".empty, .project-card")
    page.fill("#project-name", "Harbour level")
    page.fill("#project-description", "Docks, crates and wet stone.")
    page.click("#new-project button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}/$"))
    page.wait_for_selector("#set-grid .empty")
    assert "No assets yet" in page.inner_text("#set-grid")
    return page.url


def test_sign_in_rejects_a_wrong_password_and_signs_out(browser, service):
    page = new_page(browser, service)
    page.goto("/tokens/")
    assert "/accounts/login/" in page.url
    sign_in(page, password="wrong")
    assert "Wrong username or password" in page.inner_text("[role=alert]")
    snap(page, "sign-in")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:text-is('Projects')")
    assert "Signed in as e2e" in page.inner_text("header")
    page.click("header button:text('Sign out')")
    page.wait_for_selector("h1:text-is('Signed out')")
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert not page.errors, page.errors
    page.context.close()


def test_project_upload_shows_thumbnail_and_filters(page, project_url, service):
    page.goto(project_url)
    drop_files(page, "#dropzone", {"quay_stone.png": texture_png()})
    assert page.input_value("#upload-files select") == "texture"
    page.fill("#upload-tags", "stone, wet")
    page.click("#upload-submit")
    card = page.locator(".set-card", has_text="quay_stone")
    card.wait_for()
    # The previews job runs in the worker; the card switches to its thumbnail once it is done, without a reload.
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    http, deadline, thumbnail_url = service.session(), time.monotonic() + 30, None
    while thumbnail_url is None and time.monotonic() < deadline:
        assets = http.get(service.url(f"/api/v1/projects/{project}/assets?role=texture"), timeout=10).json()["results"]
        thumbnail_url = next((a["thumbnail_url"] for a in assets if a["original_name"] == "quay_stone.png"), None)
        time.sleep(0.2)
    assert thumbnail_url, "the previews job made no thumbnail"
    page.wait_for_function("""url => [...document.querySelectorAll('.set-card .thumb img')]
        .some((img) => img.src.endsWith(url) && img.complete && img.naturalWidth > 0)""", arg=thumbnail_url,
                           timeout=30_000)

    page.fill("#set-tag", "wet")
    page.wait_for_timeout(600)
    assert page.locator(".set-card").count() == 1
    page.fill("#set-tag", "")
    page.fill("#set-search", "no-such-name")
    page.wait_for_selector("#set-grid .empty:has-text('Nothing matches')")
    page.fill("#set-search", "quay")
    page.wait_for_selector(".set-card")
    page.select_option("#set-kind", "material")
    page.wait_for_selector("#set-grid .empty")


def test_job_progress_reaches_done_and_cancel_stops_a_job(page, project_url):
    page.goto(project_url.rstrip("/") + "/jobs/")
    page.click("#new-job summary")
    page.select_option("#job-kind", "diagnostics.sleep")
    page.fill("#job-seconds", "3")
    page.fill("#job-steps", "6")
    page.click("#job-form button[type=submit]")
    row = page.locator("article.job", has_text="Diagnostics: sleep").first
    row.wait_for()
    bar = row.locator("[role=progressbar]")
    seen = set()
    deadline = time.monotonic() + 60
    while row.get_attribute("data-status") != "succeeded" and time.monotonic() < deadline:
        seen.add(int(bar.get_attribute("aria-valuenow")))
        if 0 < max(seen) < 100 and len(seen) == 2:
            snap(page, "jobs")
        page.wait_for_timeout(150)
    assert row.get_attribute("data-status") == "succeeded", row.inner_text()
    assert bar.get_attribute("aria-valuenow") == "100"
    assert any(0 < value < 100 for value in seen), f"the bar never showed intermediate progress: {sorted(seen)}"
    assert "Done" in row.inner_text()
    result = row.locator("a:text('Open result')")
    assert re.search(r"/sets/[0-9a-f-]{36}/$", result.get_attribute("href"))

    page.fill("#job-seconds", "60")
    page.click("#job-form button[type=submit]")
    slow = page.locator("article.job[data-status=running], article.job[data-status=queued]").first
    slow.locator("button:text('Cancel')").click()
    page.wait_for_selector("article.job[data-status=cancelled]")
    assert page.locator("article.job[data-status=cancelled] a:text('Open result')").count() == 0


def canvas_pixels(page) -> np.ndarray:
    shot = page.locator("#viewer-canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(np.int16)


@pytest.mark.skipif(not VENDORED_THREE.exists(), reason="three.js is not vendored: run frontend/setup.sh")
def test_material_preview_renders_and_zip_downloads(page, project_url):
    page.goto(project_url)
    page.set_input_files("#file-picker", files(material_maps()))
    roles = [page.input_value(f"#upload-files tr:nth-child({i}) select") for i in range(1, 6)]
    assert roles == ["albedo", "normal", "roughness", "specular", "anisotropy"]
    page.fill("#upload-name", "Brick")
    page.click("#upload-submit")
    page.click(".set-card:has-text('Brick')")
    page.wait_for_selector("#viewer-canvas[data-ready=true]", timeout=30_000)
    shown = set(page.inner_text("#viewer-maps").removeprefix("Maps: ").rstrip(".").split(", "))
    assert shown == {"albedo", "normal", "roughness", "specular", "anisotropy"}
    rows = page.locator("#asset-table tbody tr")
    assert rows.count() == 5
    assert "128×128" in rows.first.inner_text() and "sRGB" in page.inner_text("#asset-table")

    plane = canvas_pixels(page)
    distance = np.abs(plane - np.array(BACKGROUND)).sum(-1)
    assert (distance > 30).mean() > 0.2, "the WebGL canvas shows little but its background"
    assert plane.reshape(-1, 3).std(0).max() > 20, "the rendered material has no visible texture"

    page.check("input[name=shape][value=sphere]")
    page.select_option("#viewer-tiling", "4")
    page.focus("#light-pad")
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#light-pad", "aria-valuenow") == "30"  # 0.35 - 0.05, from the arrow key
    box = page.locator("#viewer-canvas").bounding_box()
    page.keyboard.down("Shift")  # Shift+drag on the view moves the light instead of the camera
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.4, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    assert int(page.get_attribute("#light-pad", "aria-valuenow")) == -80
    page.wait_for_timeout(400)
    sphere = canvas_pixels(page)
    assert np.abs(sphere - plane).mean() > 5, "changing shape, tiling and light did not change the picture"
    page.evaluate("document.getElementById('viewer-section').scrollIntoView()")
    snap(page, "material-preview")

    with page.expect_download() as download:
        page.click("#download-zip")
    archive = zipfile.ZipFile(download.value.path())
    assert sorted(archive.namelist()) == ["albedo.png", "anisotropy.png", "normal.png", "roughness.png", "specular.png"]
    with archive.open(archive.namelist()[0]) as member:
        assert Image.open(member).size == (128, 128)


def test_tokens_page_creates_a_working_key_and_revokes_it(page, service):
    page.goto("/tokens/")
    page.wait_for_selector("#token-list table, #token-list .empty")
    page.fill("#token-name", "build server")
    page.click("#new-token button[type=submit]")
    page.wait_for_selector("#new-token-result:not([hidden])")
    key = page.input_value("#token-key")
    assert key.startswith("gat_")
    assert f"Token {key}" in page.inner_text("#token-curl") and f"Token {key}" in page.inner_text("#token-python")
    headers = {"Authorization": f"Token {key}"}
    assert requests.get(service.url("/api/v1/me"), headers=headers, timeout=10).json()["username"] == "e2e"
    snap(page, "tokens")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Revoke token build server']")
    page.wait_for_selector("#token-list tr:has-text('build server') .badge.failed")
    assert requests.get(service.url("/api/v1/me"), headers=headers, timeout=10).status_code in (401, 403)


def test_members_and_tool_pages(page, project_url, service):
    page.goto("/")
    page.wait_for_selector(".project-card")
    snap(page, "projects")
    if os.environ.get("FRONTEND_SCREENSHOTS"):  # the grid once earlier tests have filled it
        page.goto(project_url)
        page.wait_for_selector("#set-grid[aria-busy=false] .set-card")
        page.wait_for_function("[...document.querySelectorAll('#set-grid img')].every((i) => i.complete)")
        snap(page, "project")
    page.goto(project_url.rstrip("/") + "/members/")
    page.wait_for_selector("#member-list table")
    page.fill("#member-username", "bob@example.com")
    page.select_option("#member-role", "editor")
    page.click("#add-member button[type=submit]")
    page.wait_for_selector("#member-list tr:has-text('bob')")
    assert page.input_value("select[aria-label='Role of bob']") == "editor"
    assert "invited" in page.inner_text("#member-list tr[data-member=bob]")  # until bob accepts
    assert page.inner_text("#member-list tr[data-member=bob] button") == "Withdraw"
    page.fill("#member-username", "nobody")
    page.click("#add-member button[type=submit]")
    page.wait_for_selector("#add-member [role=alert]:not([hidden])")
    assert "nobody" in page.inner_text("#add-member [role=alert]")
    snap(page, "members")

    # Each tool page says "not available yet" until the server offers its kind, then shows a form
    # built from the kind's parameters in /api/v1/job-kinds.
    http = service.session()
    kinds = {k["kind"]: k for k in http.get(service.url("/api/v1/job-kinds"), timeout=10).json()["results"]}
    for tool, api_name, kind in [("capture", "materials", "material.two_shot"),
                                 ("variations", "textures", "texture.variations"),
                                 ("upscale", "superres", "superres.upscale")]:
        available = http.get(service.url(f"/api/v1/tools/{api_name}/"), timeout=10).json()["kinds"][kind]
        page.goto(project_url.rstrip("/") + f"/tools/{tool}/")
        page.wait_for_selector("#tool-body[aria-busy=false]")
        if not available:
            assert "not available yet" in page.inner_text("#not-available"), tool
            snap(page, "tool-not-available")
            continue
        assert page.locator("#not-available").count() == 0, tool
        form = page.locator("#tool-body form").first
        for name in kinds[kind]["params"]:
            control = form.locator(f"[name={name}]")
            assert control.count() == 1, (tool, name)
            # Every control has a label the browser can name it by.
            assert form.locator(f"label[for='{control.get_attribute('id')}']").count() == 1, (tool, name)
        snap(page, f"tool-{tool}")


def heic_photo(width, height) -> bytes:
    from tests.images import heic_bytes

    return heic_bytes(np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8))


def jpeg_with_focal_length(width, height, focal_35mm, colour) -> bytes:
    exif = Image.Exif()
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0xA405], exif_ifd[0x920A] = focal_35mm, 4.25  # FocalLengthIn35mmFilm, FocalLength
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_capture_form_checks_the_photos_before_submitting(page, project_url, service):
    """The capture form, mounted on a project page with a stand-in job kind (the real one may not exist yet)."""
    page.goto(project_url)
    page.wait_for_selector("#set-grid[aria-busy=false]")
    page.evaluate("""async () => {
        const { captureForm } = await import("/static/frontend/js/capture.js");
        const spec = { kind: "material.two_shot_missing", title: "Capture",
            inputs: { flash: { kind: "asset" }, guide: { kind: "asset" } },
            params: { quality: { type: "choice", choices: ["fast", "standard", "high"], default: "standard", required: false, help: "" } } };
        const section = await captureForm(document.getElementById("main").dataset.project, spec, { onJob: () => {} });
        section.id = "capture-under-test";
        document.getElementById("main").prepend(section);
    }""")
    form = page.locator("#capture-under-test form")
    assert form.locator("button[type=submit]").is_disabled()
    # A file the browser cannot decode (HEIC, or text named .png) and a photo under 64 px are refused here,
    # before anything is uploaded: the slot stays empty and says why.
    page.set_input_files("#photo-flash", [{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"}])
    page.set_input_files("#photo-guide", [{"name": "small.png", "mimeType": "image/png", "buffer": texture_png(40)}])
    page.wait_for_function("[...document.querySelectorAll('#capture-under-test figcaption')].every((c) => c.classList.contains('error'))")
    captions = form.locator("figcaption").all_inner_texts()
    assert "notes.png is not a JPEG, PNG, HEIC or DNG photo" in captions[0], captions
    assert "small.png is 40×40" in captions[1] and "at least 64 pixels" in captions[1], captions
    assert form.locator("img:visible").count() == 0 and form.locator("button[type=submit]").is_disabled()
    # An iPhone's HEIC, which Chromium cannot show, is taken and left to the service to check.
    page.set_input_files("#photo-flash", [{"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": heic_photo(96, 64)}])
    page.wait_for_function("document.querySelector('#capture-under-test figcaption').textContent.includes('HEIC')")
    assert "checked by the service" in form.locator("figcaption").first.inner_text()
    assert "error" not in (form.locator("figcaption").first.get_attribute("class") or "")
    # So is a phone's RAW photo (DNG).
    from tests.images import dng_bytes

    dng = dng_bytes(np.full((64, 96, 3), 0.3))
    page.set_input_files("#photo-guide", [{"name": "PXL_0001.dng", "mimeType": "image/x-adobe-dng", "buffer": dng}])
    page.wait_for_function("document.querySelectorAll('#capture-under-test figcaption')[1].textContent.includes('DNG')")
    assert "checked by the service" in form.locator("figcaption").nth(1).inner_text()
    page.set_input_files("#photo-flash", [{"name": "flash.jpg", "mimeType": "image/jpeg",
                                           "buffer": jpeg_with_focal_length(120, 90, 26, (255, 255, 255))}])
    page.set_input_files("#photo-guide", [{"name": "guide.png", "mimeType": "image/png", "buffer": texture_png(100)}])
    page.wait_for_function("!document.querySelector('#capture-under-test button[type=submit]').disabled")
    captions = form.locator("figcaption").all_inner_texts()
    assert "120×90" in captions[0] and "26 mm" in captions[0] and "100×100" in captions[1]
    warnings = form.locator(".warnings").inner_text()
    assert "differ in size" in warnings
    assert "guide photo has no EXIF" in warnings and "flash photo has no EXIF" not in warnings
    assert "of the flash photo is over-exposed" in warnings
    assert form.locator("select[name=quality]").input_value() == "standard"
    # Submitting uploads the pair, then the API refuses the unknown kind: the form shows its message,
    # and the photos uploaded for the refused job are deleted again.
    form.locator("button[type=submit]").click()
    alert = form.locator("[role=alert]")
    alert.wait_for()
    assert "Unknown job kind" in alert.inner_text()
    page.wait_for_function("!document.querySelector('#capture-under-test button[type=submit]').disabled")
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    sets = service.session().get(service.url(f"/api/v1/projects/{project}/sets?search=Capture flash"), timeout=10).json()
    assert sets["results"] == [], sets


def test_capture_report_summary_and_hints(page, project_url):
    """The summary under a finished capture, from the job's result (the capture report)."""
    page.goto(project_url)
    page.wait_for_selector("#set-grid[aria-busy=false]")
    page.evaluate("""async () => {
        const { captureSummary } = await import("/static/frontend/js/capture.js");
        const base = { surface: "periodic", tile: { width: 128, height: 128 }, matches_per_pixel_median: 40,
            rerender_psnr_db: 38.5, alignment: { error_px: 0.42, zoom: 0.00525 }, room_light_in_flash: [0, 0.01, 0.02],
            flash_beam_corner: 0.72,
            clipped_fraction: 0.004, time_s: { align_s: 0.5, fit_global_s: 4, fit_s: 20, render_s: 0.5 } };
        const good = captureSummary({ ...base, output_size: [1024, 1024], height_depth: 0.031,
            output_resampling: "super-resolution network (PSNR model), then resampled" });
        good.id = "summary-good";
        const poor = captureSummary({ ...base, surface: "stochastic", matches_per_pixel_median: 9,
            room_light_in_flash: [0.21, 0.2, 0.22], clipped_fraction: 0.08, alignment: { error_px: null, zoom: 0 },
            flash_beam_corner: undefined });
        poor.id = "summary-poor";
        document.getElementById("main").prepend(good, poor);
    }""")
    good = page.inner_text("#summary-good")
    assert "a 128×128 px tile repeats" in good and "38.5 dB" in good and "0.42 px residual" in good
    assert "scale corrected by 0.53 %" in good and "Time" in good and "21.0 s" in good  # fit stages counted once
    assert "1024×1024 px (super-resolution network" in good and "3.1 % of the tile's width" in good
    assert "28 % darker than a point light" in good
    assert page.locator("#summary-good .hints").count() == 0
    poor = page.inner_text("#summary-poor")
    assert "stochastic" in poor and "no motion between the shots" in poor and "Maps" not in poor
    assert "Flash beam" not in poor  # a report from before the beam was fitted
    hints = page.locator("#summary-poor .hints li").all_inner_texts()
    assert len(hints) == 3
    assert "21 % room light" in hints[0] and "8.0 % of the flash photo is clipped" in hints[1]
    assert "larger area" in hints[2]


def test_result_views_tile_and_compare(page, project_url, service):
    """The variations tile grid (2×2 toggle) and the upscale before/after slider, on real assets."""
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    uploaded = service.session().post(service.url(f"/api/v1/projects/{project}/uploads"), timeout=30,
                                      files=[("files", ("tile.png", texture_png(64), "image/png"))],
                                      data={"name": "Tile", "previews": "false"})
    assert uploaded.status_code == 201, uploaded.text
    assets = uploaded.json()["assets"]
    page.goto(project_url)
    page.wait_for_selector("#set-grid[aria-busy=false]")
    page.evaluate("""async (asset) => {
        const { tileGrid, compareView } = await import("/static/frontend/js/setviews.js");
        const big = { ...asset, width: asset.width * 2, height: asset.height * 2, name: "big.png" };
        const box = document.createElement("section");
        box.id = "views-under-test";
        const wide = tileGrid([{ ...asset, width: 128, height: 64, name: "wide.png" }]);
        wide.id = "wide-tile";
        box.append(tileGrid([asset]), compareView(asset, big), wide);
        document.getElementById("main").prepend(box);
    }""", assets[0])
    # A tile keeps its own proportions (a 2:1 texture is not squeezed into a square).
    wide = page.locator("#wide-tile .tile-view").bounding_box()
    assert abs(wide["width"] / wide["height"] - 2) < 0.05, wide
    tile = page.locator("#views-under-test .tile-view").first
    size = lambda: tile.evaluate("node => getComputedStyle(node).backgroundSize")  # noqa: E731
    page.mouse.move(0, 0)
    single = size()
    page.check("#views-under-test input[type=checkbox] >> nth=0")
    assert size() != single and "50%" in size()
    before = page.locator("#views-under-test .compare .before")
    page.locator("#views-under-test input[type=range]").fill("20")
    assert "80%" in before.evaluate("node => node.style.clipPath")
    assert "128×128" in page.inner_text("#views-under-test .compare-label")


ROLE_NAMES = {
    "brick_albedo.png": "albedo", "Wood_BaseColor.jpg": "albedo", "brick_wall_001_diff_1k.png": "albedo",
    "brick_wall_001_nor_gl_1k.png": "normal", "Bricks_NormalDX.png": "normal", "rock_nrm.png": "normal",
    "brick_rough_4k.jpg": "roughness", "brick_disp_2k.png": "height", "rock_AO.png": "ao",
    "wall_metal_2k.png": "metallic", "panel_metallic.png": "metallic", "photo_noflash.jpg": "guide",
    # Words inside a name, or a bare material word, are no role.
    "sheet_metal.png": "texture", "cacao.png": "texture", "stone_1k.png": "texture",
}


def test_upload_roles_are_guessed_from_artist_file_names(page, project_url):
    page.goto(project_url)
    page.wait_for_selector("#set-grid[aria-busy=false]")
    guessed = page.evaluate("""async (names) => {
        const { guessRole } = await import("/static/frontend/js/assets.js");
        return Object.fromEntries(names.map((name) => [name, guessRole(name)]));
    }""", list(ROLE_NAMES))
    assert guessed == ROLE_NAMES
    # A DirectX normal map is read as OpenGL by the service: the upload list says so.
    page.set_input_files("#file-picker", files({"Bricks_NormalDX.png": texture_png(16), "Bricks_NormalGL.png": texture_png(16)}))
    assert page.locator("#upload-files tr").nth(0).locator(".dx-warning").count() == 1
    assert page.locator("#upload-files tr").nth(1).locator(".dx-warning").count() == 0
    page.click("#upload-clear")


def test_pages_fit_laptop_and_phone_widths(page, project_url, service):
    """No page scrolls sideways at 1280 or 390 px (the top bar wraps, job rows stack, hidden inputs stay hidden)."""
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    http = service.session()
    uploaded = http.post(service.url(f"/api/v1/projects/{project}/uploads"), timeout=30, data={"previews": "false"},
                         files=[("files", ("wide_stone.png", texture_png(64), "image/png"))]).json()
    job = http.post(service.url(f"/api/v1/projects/{project}/jobs"), timeout=10,
                    json={"kind": "diagnostics.sleep", "params": {"seconds": 0.5, "steps": 1}}).json()
    base = project_url.rstrip("/")
    paths = ["/", "/tokens/", f"{base}/", f"{base}/jobs/", f"{base}/members/", f"{base}/sets/{uploaded['set']['id']}/",
             f"{base}/tools/capture/", f"{base}/tools/variations/", f"{base}/tools/upscale/"]
    try:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 800})
            for path in paths:
                page.goto(path)
                page.wait_for_function("!document.querySelector('[aria-busy=true]')")
                if path.endswith("/jobs/"):
                    page.wait_for_selector(f"article.job[data-job='{job['id']}']")
                if path == f"{base}/":  # the capture form's photo slots, whether or not the capture tool is available
                    page.evaluate("""async () => {
                        const { captureForm } = await import("/static/frontend/js/capture.js");
                        const spec = { kind: "material.two_shot", title: "Capture", params: {},
                            inputs: { flash: { kind: "asset" }, guide: { kind: "asset" } } };
                        document.getElementById("main").prepend(await captureForm("x", spec));
                    }""")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (width, path, overflow)
            assert page.locator("header button:text('Sign out')").bounding_box()["x"] + 10 < width
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


def test_viewers_get_no_cancel_button(browser, service, project_url):
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    http = service.session()
    added = http.post(service.url(f"/api/v1/projects/{project}/members"), json={"username": "vera", "role": "viewer"},
                      timeout=10)
    assert added.status_code == 201, added.text
    job = http.post(service.url(f"/api/v1/projects/{project}/jobs"), timeout=10,
                    json={"kind": "diagnostics.sleep", "params": {"seconds": 30, "steps": 30}}).json()
    viewer = new_page(browser, service, width=390)
    try:
        sign_in(viewer, password="pw-vera-123", username="vera")
        # Invited, not yet a member: the invitation waits on her projects page.
        invitation = viewer.locator(f"#invitations li[data-invitation='{added.json()['id']}']")
        invitation.wait_for()
        assert "viewer" in invitation.inner_text()
        invitation.locator("button:text('Accept')").click()
        viewer.wait_for_selector(f".project-card[href='/projects/{project}/']")
        assert viewer.locator("#invitations").is_hidden()
        viewer.goto(project_url.rstrip("/") + "/jobs/")
        row = viewer.locator(f"article.job[data-job='{job['id']}']")
        row.wait_for()
        assert row.get_attribute("data-status") in ("queued", "running")
        assert row.locator("button").count() == 0, row.inner_text()
        assert viewer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert not viewer.errors, viewer.errors
    finally:
        http.post(service.url(f"/api/v1/projects/{project}/jobs/{job['id']}/cancel"), timeout=10)
        viewer.context.close()


def test_tool_form_runs_one_job_at_a_time(page, project_url, service):
    """A tool page's button stays disabled while its job runs, and the progress box shows that one job.
    The upscale page is made available and its job swapped for a short diagnostics one, so no model runs."""
    project = re.search(r"/projects/([0-9a-f-]{36})/", project_url).group(1)
    kinds = {k["kind"] for k in service.session().get(service.url("/api/v1/job-kinds"), timeout=10).json()["results"]}
    if "superres.upscale" not in kinds:
        pytest.skip("the superres.upscale job kind is not registered")
    service.session().post(service.url(f"/api/v1/projects/{project}/uploads"), timeout=30, data={"previews": "false"},
                           files=[("files", ("upscale_me.png", texture_png(32), "image/png"))])
    posted = []

    def available(route):
        route.fulfill(json={"kinds": {"superres.upscale": True}})

    def short_job(route):
        if route.request.method != "POST":
            return route.continue_()
        posted.append(route.request.post_data_json)
        route.continue_(post_data={"kind": "diagnostics.sleep", "params": {"seconds": 2, "steps": 4}, "inputs": {}},
                        headers={**route.request.headers, "content-type": "application/json"})

    page.route("**/api/v1/tools/superres/", available)
    page.route(f"**/api/v1/projects/{project}/jobs", short_job)
    try:
        page.goto(project_url.rstrip("/") + "/tools/upscale/")
        page.wait_for_selector("#tool-body[aria-busy=false] form")
        submit = page.locator("#tool-body form button[type=submit]").first
        submit.click()
        page.wait_for_selector("#tool-job article.job")
        assert submit.is_disabled()
        page.wait_for_selector("#tool-job article.job[data-status=succeeded]", timeout=30_000)
        page.wait_for_selector("#tool-job h2:text('Result')")
        assert not submit.is_disabled()
        assert len(posted) == 1 and page.locator("#tool-job article.job").count() == 1
        assert page.locator("#tool-job h2:text('Result')").count() == 1
    finally:
        page.unroute("**/api/v1/tools/superres/")
        page.unroute(f"**/api/v1/projects/{project}/jobs")


GLTF_LOADER = ROOT / "frontend/static/frontend/vendor/three/addons/loaders/GLTFLoader.js"

# Loads a .glb (one base64 string) or a .gltf with its files (name -> base64, the .gltf first)
# with three.js's GLTFLoader and describes what it built.
LOAD_GLTF_JS = """async ({files, main}) => {
  const THREE = await import('three');
  const { GLTFLoader } = await import('three/addons/loaders/GLTFLoader.js');
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const urls = {};
  for (const [name, b64] of Object.entries(files)) {
    urls[name] = URL.createObjectURL(new Blob([bytes(files[name])]));
  }
  const manager = new THREE.LoadingManager();
  manager.setURLModifier((url) => urls[url.split('/').pop()] || url);
  const gltf = await new GLTFLoader(manager).loadAsync(urls[main]);
  let mesh = null;
  gltf.scene.traverse((node) => { if (node.isMesh) mesh = node; });
  const m = mesh.material;
  const size = (texture) => texture ? [texture.image.width, texture.image.height] : null;
  return {
    type: m.type, name: m.name,
    maps: {map: size(m.map), normalMap: size(m.normalMap), roughnessMap: size(m.roughnessMap),
           metalnessMap: size(m.metalnessMap), specularColorMap: size(m.specularColorMap),
           anisotropyMap: size(m.anisotropyMap)},
    colourSpace: m.map.colorSpace, normalSpace: m.normalMap.colorSpace,
    anisotropy: m.anisotropy, specularIntensity: m.specularIntensity,
    vertices: mesh.geometry.attributes.position.count,
    tangents: !!mesh.geometry.attributes.tangent,
  };
}"""


@pytest.mark.skipif(not GLTF_LOADER.exists(), reason="three.js is not vendored: run frontend/setup.sh")
@pytest.mark.parametrize("preset", ["glb", "gltf"])
def test_gltf_export_loads_in_three_gltfloader(page, project_url, tmp_path, preset):
    """The glTF presets open in a real loader: three.js builds a MeshPhysicalMaterial with every map,
    the specular and anisotropy extensions applied, from our files alone."""
    from materials.exports import ExportOptions, SourceMap, export_material

    height, width = 24, 40
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    normal = np.stack([0.3 * np.sin(x / 3), 0.3 * np.cos(y / 2), np.ones_like(x)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    as8 = lambda values: np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)
    sources = {
        "albedo": SourceMap(as8(np.dstack([x / width, y / height, np.full_like(x, 0.5)])), "srgb"),
        "specular": SourceMap(as8(np.full((height, width, 3), 0.25)), "srgb"),
        "normal": SourceMap(as8(normal * 0.5 + 0.5), "linear"),
        "roughness": SourceMap(as8(np.full((height, width, 1), 0.5)), "linear"),
        "anisotropy": SourceMap(as8(np.dstack([np.full_like(x, 1.0), np.full_like(x, 0.5), np.full_like(x, 0.6)])),
                                "linear"),
    }
    result = export_material(sources, tmp_path, preset=preset, name="Quay Stone", options=ExportOptions())
    files = {f.path.name: base64.b64encode(f.path.read_bytes()).decode() for f in result.files}
    main = next(name for name in files if name.endswith("." + preset))

    page.goto(project_url)
    loaded = page.evaluate(LOAD_GLTF_JS, {"files": files, "main": main})
    assert not page.errors, page.errors
    assert loaded["type"] == "MeshPhysicalMaterial" and loaded["name"] == "QuayStone", loaded
    for texture in ("map", "normalMap", "roughnessMap", "metalnessMap", "specularColorMap", "anisotropyMap"):
        assert loaded["maps"][texture] == [width, height], (texture, loaded)
    assert loaded["colourSpace"] == "srgb" and loaded["normalSpace"] in ("", "srgb-linear", "NoColorSpace"), loaded
    assert loaded["anisotropy"] > 0 and loaded["specularIntensity"] > 0, loaded
    assert loaded["vertices"] >= 4 and loaded["tangents"], loaded
