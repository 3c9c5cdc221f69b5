// Registers nixa's service worker (/sw.js, views/sw.js) so that a phone can install
// nixa as a web app and gets a plain offline page instead of the browser's error.
// A page works the same without it: a browser that refuses is left alone.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => console.warn('nixa: service worker not registered', err));
}
