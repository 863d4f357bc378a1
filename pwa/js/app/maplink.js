// Where an address opens: Amap (高德) by default in Chinese, Apple Maps on Apple devices, Google
// Maps elsewhere, and `geo:` on Android (the phone's own choice of map app). A person may pick
// another in the menu (kept in localStorage). Routes to a known position are geo.js's mapLinks.
export const MAP_APPS = ["auto", "amap", "baidu", "apple", "google", "geo"];
const KEY = "fieldcards.mapApp";

export const chosenMapApp = () => (MAP_APPS.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : "auto");
export const chooseMapApp = (app) => localStorage.setItem(KEY, MAP_APPS.includes(app) ? app : "auto");

// The app "auto" means for this language and device.
export function resolveMapApp(choice, lang, agent = "") {
  if (choice && choice !== "auto") return choice;
  if (/Android/i.test(agent)) return "geo";
  if (lang === "zh-CN") return "amap";
  if (/iPhone|iPad|Macintosh/.test(agent)) return "apple";
  return "google";
}

export function addressHref(address, app) {
  const q = encodeURIComponent(String(address).trim());
  switch (app) {
    case "amap": return `https://uri.amap.com/search?keyword=${q}&src=fieldcards&callnative=1`;
    case "baidu": return `https://api.map.baidu.com/geocoder?address=${q}&output=html&src=fieldcards`;
    case "apple": return `https://maps.apple.com/?q=${q}`;
    case "geo": return `geo:0,0?q=${q}`;
    default: return `https://www.google.com/maps/search/?api=1&query=${q}`;
  }
}
