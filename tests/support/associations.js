// Making a resident the admin of an association, through the app's associations screen.
import { expect } from "@playwright/test";

/**
 * Registers an association named `name`, active in Ulft, as the resident on `page`, who becomes
 * its admin; the page is left on the new association's page.
 */
export async function registerAssociation(page, name, category = "Muziek") {
  await page.getByRole("link", { name: "Verenigingen", exact: true }).click();
  await page.getByText("Vereniging aanmelden", { exact: true }).click();
  const form = page.getByTestId("new-association-form");
  await form.getByLabel("Naam van de vereniging").fill(name);
  await form.getByLabel("Soort vereniging").selectOption({ label: category });
  await form.getByRole("checkbox", { name: "Ulft", exact: true }).check();
  await form.getByRole("button", { name: "Aanmelden" }).click();
  await expect(page.getByTestId("association-name")).toHaveText(name);
}
