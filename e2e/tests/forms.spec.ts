// Forms show what the server says is wrong beside the field it is about.
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';

test("sign-up with a bad username shows the server's message beside the username", async ({ page }) => {
  await page.goto('/account/');
  const form = page.locator('[data-sign-up]');
  await form.getByLabel('Username').fill('two words');
  await form.getByLabel('Choose a password').fill('long enough password');
  await form.getByRole('button', { name: 'Create account' }).click();

  const username = form.getByLabel('Username');
  await expect(username).toHaveAttribute('aria-invalid', 'true');
  await expect(username).toHaveAccessibleDescription(/Use only letters, digits, dots, dashes and underscores/);
  await expect(form.locator('[data-field-error="username"]')).toBeVisible();
  await expect(form.getByRole('alert')).toHaveText('A field needs a change. See the message beside it.');
  await expect(username).toBeFocused();
  await page.screenshot({ path: shot('forms-field-error') });

  // Changing the field takes its message away; a good name goes through.
  await username.fill('two-words');
  await expect(form.locator('[data-field-error]')).toHaveCount(0);
  await expect(username).not.toHaveAttribute('aria-invalid');
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
});
