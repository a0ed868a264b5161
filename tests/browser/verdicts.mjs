// The real-browser test of the consumer page: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core opens each case's page in
// English and in Chinese at a 320 px wide viewport, checks the visible
// verdict words, the HTTP status and that nothing overflows sideways,
// saves a screenshot of each, and exercises the language switch and the
// PIN form (consumed, then the page warns that the PIN was used).
//
//   node verdicts.mjs BASE_URL CASES_JSON SCREENSHOT_DIR
// CASES_JSON: [{"name","path","status","verdict","words":{"en","zh-CN"},"pin"?}]
// Env PLAYWRIGHT_MODULES: the node_modules holding playwright-core
// (tools/install-playwright.sh prints it). Exit 0 when every check passed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [base, casesFile, outDir] = process.argv.slice(2);
if (!base || !casesFile || !outDir) {
  console.error('usage: node verdicts.mjs BASE_URL CASES_JSON SCREENSHOT_DIR');
  process.exit(2);
}
const modules = process.env.PLAYWRIGHT_MODULES;
if (!modules || !fs.existsSync(path.join(modules, 'playwright-core'))) {
  console.error(`playwright-core not found under PLAYWRIGHT_MODULES=${modules} (run tools/install-playwright.sh)`);
  process.exit(2);
}
const { chromium } = createRequire(path.join(modules, 'x.js'))('playwright-core');
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
fs.mkdirSync(outDir, { recursive: true });

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
  timeout: 60_000,
});
try {
  for (const c of cases) {
    for (const lang of ['en', 'zh-CN']) {
      const context = await browser.newContext({
        locale: lang,
        viewport: { width: 320, height: 640 },
        extraHTTPHeaders: { 'Accept-Language': lang },
      });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const response = await page.goto(base + c.path, { waitUntil: 'load', timeout: 30_000 });
      const label = `${c.name} [${lang}]`;
      check(response.status() === c.status, `${label}: HTTP ${response.status()}, expected ${c.status}`);
      const verdict = page.locator('#verdict-text');
      const visible = await verdict.isVisible();
      const text = visible ? (await verdict.innerText()).trim() : '';
      check(visible && text === c.words[lang], `${label}: visible verdict "${text}", expected "${c.words[lang]}"`);
      const attr = await page.locator('#verdict').getAttribute('data-verdict');
      check(attr === c.verdict, `${label}: data-verdict ${attr}, expected ${c.verdict}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `${label}: no sideways scrolling at 320 px (overflow ${overflow} px)`);
      const shot = path.resolve(outDir, `${c.name}-${lang}.png`);
      await page.screenshot({ path: shot, fullPage: true, timeout: 20_000 });
      console.log(`screenshot ${shot}`);

      if (lang === 'en' && c.switch_to) {
        await page.click('#lang-zh');
        await page.waitForLoadState('load');
        const switched = (await page.locator('#verdict-text').innerText()).trim();
        check(switched === c.switch_to, `${label}: language switch shows "${switched}", expected "${c.switch_to}"`);
      }
      if (lang === 'zh-CN' && c.pin) {
        // Last pass: enter the PIN through the page's form, then reload:
        // the code now warns that its PIN was used.
        await page.fill('#pin-input', c.pin);
        await page.click('#pin button');
        const out = page.locator('#pin-result');
        await out.filter({ hasText: /\S/ }).waitFor({ timeout: 20_000 });
        const said = (await out.innerText()).trim();
        check(said.startsWith('验证码正确'), `${label}: PIN form says "${said}"`);
        await page.screenshot({ path: path.resolve(outDir, `${c.name}-entered.png`), fullPage: true });
        await page.reload({ waitUntil: 'load' });
        const after = (await page.locator('#verdict-text').innerText()).trim();
        const used = await page.locator('[data-warning="pin_used"]').count();
        check(after === '警告' && used === 1, `${label}: after the PIN the page warns "${after}" (pin_used ${used})`);
        await page.screenshot({ path: path.resolve(outDir, `${c.name}-used.png`), fullPage: true });
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all browser checks passed');
