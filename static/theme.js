// Applies the theme chosen in the header (light, dark or system) before the page paints.
// A classic script, not a module, so it runs before the first paint; not inline, for the CSP.
try {
  const theme = localStorage.getItem("cm-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // Storage disabled: follow the system.
}
