/**
 * A synthetic product catalogue for esci.csv and reviews.csv: product families (a product type
 * with its attributes, made-up brands, substitutes and accessories) from which titles and
 * descriptions are assembled. Brands and phone models are invented; nothing here is scraped.
 *
 * Attribute spec syntax: `name:value|value|…`. A leading `*` marks a key attribute a shopper may
 * put in the query (a product differing in it is a Substitute); a leading `!` marks a fit
 * attribute (a product for another phone model or watch size does not fit: Irrelevant).
 * `colour` with no values uses the shared palette. Names and nouns may hold `{attr}`
 * placeholders, filled with that attribute's value.
 */

export const CATEGORY_BRANDS: Record<string, string[]> = {
  electronics: ['Voltix', 'Sonara', 'Aurel', 'Kinetix', 'Nexa', 'Brightline'],
  home_kitchen: ['Kitchara', 'Homely', 'Nordvik', 'Casa Verde', 'Ironleaf'],
  beauty: ['Purely', 'Belle Rose', 'Maison Lune', 'Velvetine', 'Glowco'],
  sports_outdoors: ['Peak & Trail', 'Summit', 'Ridgeline', 'Tidewater', 'Kinetix'],
  apparel: ['Northwind', 'Ardent', 'Oakby', 'Calloway', 'Peak & Trail'],
  grocery: ['Harvest Hill', 'Golden Acre', 'Good Batch', 'Casa Verde'],
  pet_supplies: ['Pawsome', 'Whisker & Co', 'Tailwind', 'Homely'],
  automotive: ['Roadmaster', 'Torqueline', 'Ironleaf', 'Voltix'],
  office_products: ['Deskly', 'Penwright', 'Brightline', 'Inkwell'],
  garden: ['Greenthumb', 'Nordvik', 'Tidewater', 'Homely'],
  toys_games: ['Little Fox', 'Brickly', 'Funhaus', 'Wonderkin'],
  books: ['Harbor House', 'Inkwell Press', 'Penwright Books'],
  health: ['Vitalis', 'CarePlus', 'Medica', 'Purely'],
  baby: ['Cuddlebug', 'Little Fox', 'Wonderkin', 'CarePlus'],
};

export const COLOUR_VALUES = [
  'Black',
  'White',
  'Navy Blue',
  'Grey',
  'Red',
  'Pink',
  'Sage Green',
  'Beige',
  'Rose Gold',
  'Teal',
];

export interface Attribute {
  name: string;
  values: string[];
  /** A shopper may ask for it: a product with another value is a Substitute. */
  key: boolean;
  /** It decides whether the product fits at all: another value is Irrelevant. */
  fit: boolean;
}

export interface Family {
  key: string;
  category: string;
  /** How shoppers name it; may hold {attr} placeholders. */
  names: string[];
  /** Title noun; may hold {attr} placeholders. */
  noun: string;
  attrs: Attribute[];
  related: string[];
  accessories: string[];
  blurbs: string[];
}

interface Spec {
  related?: string[];
  acc?: string[];
  blurbs?: string[];
}

function attr(spec: string): Attribute {
  const key = spec.startsWith('*') || spec.startsWith('!');
  const fit = spec.startsWith('!');
  const body = spec.replace(/^[*!]/, '');
  const colon = body.indexOf(':'); // values may hold colons themselves ("1:16")
  const name = colon < 0 ? body : body.slice(0, colon);
  return { name, values: colon < 0 ? COLOUR_VALUES : body.slice(colon + 1).split('|'), key, fit };
}

const FAMILIES: Family[] = [];

function fam(key: string, category: string, names: string[], noun: string, attrs: string[], spec: Spec = {}): void {
  FAMILIES.push({
    key,
    category,
    names,
    noun,
    attrs: attrs.map(attr),
    related: spec.related ?? [],
    accessories: spec.acc ?? [],
    blurbs: spec.blurbs ?? [],
  });
}

const PHONES = 'Nova 12|Nova 12 Pro|Zephyr S5|Zephyr S5 Ultra|Orbit 8';

// ── electronics ──────────────────────────────────────────────────────────────────────────────
fam(
  'earbuds',
  'electronics',
  ['wireless earbuds', 'bluetooth earbuds', 'earbuds', 'wireless earphones'],
  'Wireless Earbuds',
  [
    '*colour',
    '*feature:Noise Cancelling|Open Ear|Sport|Low Latency Gaming',
    'battery:30H Playtime|40H Playtime|50H Playtime',
  ],
  {
    related: ['headphones'],
    acc: ['earbud_case', 'ear_tips'],
    blurbs: [
      'Bluetooth 5.3 keeps a stable connection with low latency.',
      'IPX5 sweat resistant, made for workouts and commutes.',
      'Touch controls and a built-in microphone for calls.',
      'The charging case tops up over USB-C in about an hour.',
    ],
  },
);
fam(
  'headphones',
  'electronics',
  ['over ear headphones', 'noise cancelling headphones', 'bluetooth headphones', 'headphones'],
  'Over-Ear Headphones',
  ['*colour', '*feature:Active Noise Cancelling|Wired|Foldable|Hi-Res Audio', 'battery:40H Playtime|60H Playtime'],
  {
    related: ['earbuds'],
    acc: ['headphone_stand'],
    blurbs: [
      'Memory foam ear cushions stay comfortable for hours.',
      'Folds flat into the included travel pouch.',
      'Switch between two devices without re-pairing.',
    ],
  },
);
fam(
  'earbud_case',
  'electronics',
  ['earbuds case', 'earbud case cover', 'earbuds cover'],
  'Earbuds Case Cover',
  ['*colour', '*material:Silicone|Leather|Hard Shell'],
  { blurbs: ['Precise cutouts leave the charging port open.', 'Keychain clip included so the case is easy to carry.'] },
);
fam(
  'ear_tips',
  'electronics',
  ['ear tips', 'replacement ear tips', 'silicone ear tips'],
  'Replacement Ear Tips',
  ['*size:S/M/L|Small|Large', 'pack:3 Pairs|6 Pairs'],
  { blurbs: ['Soft silicone tips improve the seal and bass.', 'Fits most in-ear earbuds.'] },
);
fam(
  'headphone_stand',
  'electronics',
  ['headphone stand', 'headset holder'],
  'Headphone Stand',
  ['*material:Aluminum|Wood|Acrylic', 'colour'],
  { blurbs: ['A weighted base keeps the stand steady on the desk.'] },
);
fam(
  'phone_charger',
  'electronics',
  ['phone charger', 'usb c charger', 'fast charger', 'wall charger', 'charger block'],
  'USB C Wall Charger',
  ['*watt:20W|30W|45W|65W', '*ports:1 Port|2 Port|3 Port', 'colour:White|Black'],
  {
    related: ['power_bank'],
    acc: ['usb_c_cable'],
    blurbs: [
      'GaN technology keeps it small and cool.',
      'Foldable plug for travel.',
      'Charges a phone to 50% in about 30 minutes.',
    ],
  },
);
fam(
  'usb_c_cable',
  'electronics',
  ['usb c cable', 'usb c to usb c cable', 'charging cable', 'type c cable'],
  'USB C to USB C Cable',
  ['*length:3 ft|6 ft|10 ft', '*pack:1 Pack|2 Pack|3 Pack', 'rating:60W|100W|240W'],
  {
    acc: ['cable_ties'],
    blurbs: ['Braided nylon jacket survives thousands of bends.', 'Supports fast charging and data transfer.'],
  },
);
fam(
  'cable_ties',
  'office_products',
  ['cable ties', 'velcro cable ties', 'zip ties'],
  'Reusable Cable Ties',
  ['*pack:50 Pack|100 Pack', 'colour:Black|Assorted'],
  { blurbs: ['Keep cords under the desk tidy.'] },
);
fam(
  'phone_case',
  'electronics',
  ['phone case', '{model} case', 'case for {model}', 'clear phone case'],
  'Case for {model}',
  [`!model:${PHONES}`, '*style:Clear|Rugged|Wallet|Slim', 'colour'],
  {
    acc: ['screen_protector'],
    blurbs: [
      'Raised edges protect the screen and camera.',
      'Drop tested from 10 feet.',
      'Works with wireless charging.',
    ],
  },
);
fam(
  'screen_protector',
  'electronics',
  ['screen protector', '{model} screen protector', 'tempered glass screen protector'],
  'Screen Protector for {model}',
  [`!model:${PHONES}`, '*material:Tempered Glass|Privacy Glass|Matte Film', 'pack:2 Pack|3 Pack'],
  { acc: ['phone_case'], blurbs: ['9H hardness tempered glass.', 'Installation frame for bubble-free fitting.'] },
);
fam(
  'bluetooth_speaker',
  'electronics',
  ['bluetooth speaker', 'portable speaker', 'waterproof speaker', 'wireless speaker'],
  'Portable Bluetooth Speaker',
  ['*colour', '*size:Mini|Medium|Party', 'feature:IPX7 Waterproof|360° Sound|Bass Boost'],
  { related: ['headphones'], blurbs: ['Up to 24 hours of playtime.', 'Pair two speakers for stereo sound.'] },
);
fam(
  'portable_ssd',
  'electronics',
  ['portable ssd', 'external ssd', 'external hard drive', 'ssd 1tb'],
  'Portable External SSD',
  ['*capacity:500GB|1TB|2TB|4TB', 'interface:USB 3.2|USB-C|Thunderbolt', 'colour:Black|Grey|Blue'],
  {
    related: ['sd_card'],
    acc: ['usb_c_cable'],
    blurbs: ['Read speeds up to 1050 MB/s.', 'Shock resistant aluminium shell.'],
  },
);
fam(
  'sd_card',
  'electronics',
  ['micro sd card', 'sd card', 'memory card', 'microsd card'],
  'microSDXC Memory Card',
  ['*capacity:64GB|128GB|256GB|512GB', 'speed:U3 A2 V30|Class 10'],
  {
    related: ['portable_ssd'],
    acc: ['card_reader'],
    blurbs: ['Records 4K video without dropped frames.', 'Includes an SD adapter.'],
  },
);
fam(
  'card_reader',
  'electronics',
  ['sd card reader', 'usb c card reader', 'card reader'],
  'SD Card Reader',
  ['*interface:USB-C|USB-A|Lightning'],
  { blurbs: ['Reads SD and microSD cards at the same time.'] },
);
fam(
  'mouse',
  'electronics',
  ['gaming mouse', 'wireless mouse', 'computer mouse', 'mouse'],
  'Gaming Mouse',
  ['*connection:Wireless|Wired', '*colour:Black|White|Pink', 'dpi:12000 DPI|26000 DPI'],
  {
    acc: ['mouse_pad'],
    related: ['trackpad'],
    blurbs: ['Six programmable buttons.', 'Lightweight 63 g shell with a honeycomb design.'],
  },
);
fam('trackpad', 'electronics', ['trackpad', 'touchpad'], 'Wireless Trackpad', ['*colour:Black|White|Silver'], {
  related: ['mouse'],
  blurbs: ['Multi-touch gestures on a glass surface.'],
});
fam(
  'mouse_pad',
  'electronics',
  ['mouse pad', 'large mouse pad', 'gaming mouse pad'],
  'Mouse Pad',
  ['*size:Large|XXL|Standard', 'colour'],
  { blurbs: ['Stitched edges stop fraying.', 'Non-slip rubber base.'] },
);
fam(
  'keyboard',
  'electronics',
  ['mechanical keyboard', 'gaming keyboard', 'keyboard', 'wireless keyboard'],
  'Mechanical Keyboard',
  ['*switch:Red Switch|Brown Switch|Blue Switch', '*layout:Full Size|TKL|60%', 'connection:Wireless|Wired'],
  { acc: ['keycaps', 'mouse_pad'], blurbs: ['Hot-swappable switches.', 'Per-key RGB lighting with 18 effects.'] },
);
fam('keycaps', 'electronics', ['keycaps', 'keycap set', 'pbt keycaps'], 'Keycap Set', ['*colour', '*profile:PBT|ABS'], {
  blurbs: ['Double-shot legends never fade.'],
});
fam(
  'smart_watch',
  'electronics',
  ['smart watch', 'smartwatch', 'fitness watch'],
  'Smart Watch',
  ['*size:41mm|45mm', '*colour:Black|Silver|Rose Gold'],
  { acc: ['watch_band'], blurbs: ['Tracks heart rate, sleep and 100 workout modes.', 'Seven-day battery life.'] },
);
fam(
  'watch_band',
  'electronics',
  ['watch band', 'smart watch band', '{size} watch band'],
  'Watch Band {size}',
  ['!size:41mm|45mm', '*material:Silicone|Leather|Nylon Loop|Stainless Steel', 'colour'],
  { blurbs: ['Quick-release pins, no tools needed.'] },
);
fam(
  'power_bank',
  'electronics',
  ['power bank', 'portable charger', 'battery pack'],
  'Power Bank',
  ['*capacity:10000mAh|20000mAh|26800mAh', 'feature:PD 20W|Magnetic|Solar', 'colour:Black|White'],
  {
    related: ['phone_charger'],
    acc: ['usb_c_cable'],
    blurbs: ['Charges two devices at once.', 'LED display shows the remaining charge.'],
  },
);
fam(
  'monitor',
  'electronics',
  ['monitor', 'gaming monitor', 'computer monitor', '27 inch monitor'],
  'Monitor',
  ['*size:24 Inch|27 Inch|32 Inch', '*resolution:1080p FHD|1440p QHD|4K UHD', 'refresh:75Hz|144Hz|165Hz'],
  { acc: ['monitor_stand', 'hdmi_cable'], blurbs: ['IPS panel with wide viewing angles.', 'VESA mount compatible.'] },
);
fam(
  'hdmi_cable',
  'electronics',
  ['hdmi cable', '8k hdmi cable', 'hdmi 2.1 cable'],
  'HDMI Cable',
  ['*length:3 ft|6 ft|10 ft', 'version:2.0|2.1'],
  { blurbs: ['Supports 4K at 120Hz.'] },
);
fam(
  'rechargeable_batteries',
  'electronics',
  ['rechargeable batteries', 'aa batteries', 'aaa rechargeable batteries'],
  'Rechargeable Batteries',
  ['*size:AA|AAA', '*pack:4 Pack|8 Pack|16 Pack'],
  { blurbs: ['Pre-charged and ready to use.', 'Recharge up to 1000 times.'] },
);

// ── home & kitchen ───────────────────────────────────────────────────────────────────────────
fam(
  'coffee_maker',
  'home_kitchen',
  ['coffee maker', 'drip coffee maker', 'coffee machine', '12 cup coffee maker'],
  'Coffee Maker',
  ['*type:Drip|Single Serve|Espresso', '*capacity:4 Cup|12 Cup|14 Cup', 'colour:Black|Stainless Steel|White'],
  {
    related: ['french_press'],
    acc: ['coffee_filters', 'coffee_beans'],
    blurbs: [
      'Programmable 24-hour timer.',
      'Keep-warm plate shuts off after two hours.',
      'Brew strength control for bolder coffee.',
    ],
  },
);
fam(
  'french_press',
  'home_kitchen',
  ['french press', 'coffee press'],
  'French Press',
  ['*size:12 oz|34 oz', '*material:Glass|Stainless Steel'],
  { related: ['coffee_maker'], acc: ['coffee_beans'], blurbs: ['Four-level filtration for a clean cup.'] },
);
fam(
  'coffee_filters',
  'home_kitchen',
  ['coffee filters', '#4 coffee filters', 'basket coffee filters', 'paper coffee filters'],
  'Coffee Filters',
  ['*size:#2 Cone|#4 Cone|8-12 Cup Basket', '*count:100 Count|200 Count|300 Count', 'colour:Unbleached|White'],
  { blurbs: ['No paper taste.'] },
);
fam(
  'coffee_grinder',
  'home_kitchen',
  ['coffee grinder', 'burr grinder'],
  'Coffee Grinder',
  ['*type:Burr|Blade', 'colour:Black|Silver'],
  { acc: ['coffee_beans'], blurbs: ['18 grind settings from espresso to French press.'] },
);
fam(
  'water_bottle',
  'home_kitchen',
  ['water bottle', 'insulated water bottle', 'stainless steel water bottle', '{capacity} water bottle'],
  'Water Bottle',
  ['*capacity:20 oz|32 oz|40 oz|64 oz', '*material:Stainless Steel|Glass|Tritan Plastic', 'colour'],
  {
    related: ['tumbler'],
    acc: ['bottle_brush', 'straw_lid'],
    blurbs: [
      'Double-wall vacuum insulation keeps drinks cold for 24 hours.',
      'Leak-proof lid.',
      'Fits most cup holders.',
    ],
  },
);
fam(
  'tumbler',
  'home_kitchen',
  ['tumbler', '40 oz tumbler', 'travel mug', 'tumbler with handle'],
  'Tumbler',
  ['*capacity:20 oz|30 oz|40 oz', '*colour'],
  { related: ['water_bottle'], acc: ['straw_lid'], blurbs: ['Handle and straw included.'] },
);
fam(
  'bottle_brush',
  'home_kitchen',
  ['bottle brush', 'bottle cleaning brush', 'bottle cleaner brush'],
  'Bottle Cleaning Brush',
  ['*pack:3 Pack|5 Pack', 'material:Silicone|Nylon'],
  { blurbs: ['Long handle reaches the bottom of tall bottles.'] },
);
fam(
  'straw_lid',
  'home_kitchen',
  ['straw lid', 'replacement lid', 'bottle lid'],
  'Straw Lid',
  ['*fits:Wide Mouth|Standard Mouth', 'colour:Black|Clear'],
  { blurbs: ['Spill-proof flip straw.'] },
);
fam(
  'frying_pan',
  'home_kitchen',
  ['frying pan', 'nonstick frying pan', 'skillet', 'cast iron skillet', '{size} frying pan'],
  'Frying Pan',
  ['*size:8 Inch|10 Inch|12 Inch', '*material:Nonstick|Cast Iron|Stainless Steel|Ceramic'],
  { acc: ['spatula'], blurbs: ['Oven safe to 500°F.', 'Works on gas, electric and induction.'] },
);
fam(
  'spatula',
  'home_kitchen',
  ['spatula', 'silicone spatula', 'spatula set'],
  'Spatula Set',
  ['*material:Silicone|Stainless Steel|Wood', 'pack:3 Piece|5 Piece'],
  { blurbs: ['Heat resistant to 600°F.'] },
);
fam(
  'bed_sheets',
  'home_kitchen',
  ['bed sheets', 'sheet set', '{size} sheets', 'cotton sheets'],
  'Sheet Set',
  ['*size:Twin|Full|Queen|King', '*material:100% Cotton|Microfiber|Linen|Bamboo', 'colour'],
  {
    acc: ['mattress_protector'],
    blurbs: ['Deep pockets fit mattresses up to 16 inches.', 'Gets softer with every wash.'],
  },
);
fam(
  'mattress_protector',
  'home_kitchen',
  ['mattress protector', 'waterproof mattress protector'],
  'Mattress Protector',
  ['*size:Twin|Full|Queen|King'],
  { blurbs: ['Waterproof and quiet.'] },
);
fam(
  'air_fryer',
  'home_kitchen',
  ['air fryer', '{capacity} air fryer', 'digital air fryer'],
  'Air Fryer',
  ['*capacity:4 Qt|6 Qt|8 Qt', '*feature:Dual Basket|Digital Touchscreen|Viewing Window', 'colour:Black|White'],
  { acc: ['air_fryer_liners'], blurbs: ['Crisps with up to 95% less oil.', 'Dishwasher-safe basket.'] },
);
fam(
  'air_fryer_liners',
  'home_kitchen',
  ['air fryer liners', 'air fryer parchment paper'],
  'Air Fryer Liners',
  ['*pack:100 Pcs|200 Pcs', 'material:Parchment Paper|Silicone'],
  { blurbs: ['Keeps the basket clean.'] },
);
fam(
  'knife_set',
  'home_kitchen',
  ['knife set', 'kitchen knife set', 'knife block set'],
  'Knife Set',
  ['*pieces:6 Piece|12 Piece|15 Piece', '*material:German Stainless Steel|Japanese Steel|Ceramic'],
  { acc: ['knife_sharpener'], blurbs: ['Full-tang blades with ergonomic handles.'] },
);
fam(
  'knife_sharpener',
  'home_kitchen',
  ['knife sharpener', 'sharpening stone'],
  'Knife Sharpener',
  ['*type:Manual|Electric|Whetstone'],
  { blurbs: ['Restores a sharp edge in seconds.'] },
);
fam(
  'mouse_trap',
  'home_kitchen',
  ['mouse trap', 'mouse traps', 'humane mouse trap'],
  'Mouse Trap',
  ['*pack:4 Pack|6 Pack|12 Pack', '*type:Snap|Humane Live Catch'],
  { blurbs: ['Reusable and easy to set.'] },
);
fam(
  'shoe_rack',
  'home_kitchen',
  ['shoe rack', 'shoe organizer'],
  'Shoe Rack',
  ['*tiers:3 Tier|4 Tier|6 Tier', 'colour:Black|White|Bamboo'],
  { blurbs: ['Tool-free assembly.'] },
);
fam(
  'meat_thermometer',
  'home_kitchen',
  ['meat thermometer', 'instant read thermometer'],
  'Meat Thermometer',
  ['*type:Instant Read|Wireless|Leave-In'],
  { blurbs: ['Reads in 2 seconds.'] },
);
fam(
  'kitchen_shears',
  'home_kitchen',
  ['kitchen shears', 'kitchen scissors'],
  'Kitchen Shears',
  ['*pack:1 Pack|2 Pack'],
  { blurbs: ['Come apart for cleaning.'] },
);

// ── beauty ───────────────────────────────────────────────────────────────────────────────────
fam(
  'shampoo',
  'beauty',
  ['shampoo', 'sulfate free shampoo', 'shampoo for {hair}', 'clarifying shampoo'],
  'Shampoo',
  [
    '*hair:Dry Hair|Curly Hair|Oily Hair|Color-Treated Hair',
    '*size:12 fl oz|16 fl oz|33.8 fl oz',
    'scent:Coconut|Tea Tree|Unscented',
  ],
  {
    related: ['dry_shampoo'],
    acc: ['conditioner'],
    blurbs: ['Gently cleanses without stripping natural oils.', 'Free of sulfates and parabens.'],
  },
);
fam(
  'conditioner',
  'beauty',
  ['conditioner', 'leave in conditioner', 'conditioner for {hair}'],
  'Conditioner',
  ['*hair:Dry Hair|Curly Hair|Oily Hair|Color-Treated Hair', '*size:12 fl oz|16 fl oz'],
  { blurbs: ['Detangles and adds shine.'] },
);
fam('dry_shampoo', 'beauty', ['dry shampoo'], 'Dry Shampoo', ['*size:4.3 oz|6.7 oz', 'scent:Fresh|Unscented'], {
  related: ['shampoo'],
  blurbs: ['Absorbs oil and refreshes hair between washes.'],
});
fam(
  'lipstick',
  'beauty',
  ['lipstick', 'matte lipstick', '{shade} lipstick', 'long lasting lipstick'],
  'Lipstick',
  ['*finish:Matte|Satin|Gloss', '*shade:Classic Red|Nude Beige|Berry|Coral Pink'],
  { acc: ['lip_liner'], blurbs: ['Richly pigmented in one swipe.', 'Lasts up to 12 hours.'] },
);
fam(
  'lip_liner',
  'beauty',
  ['lip liner', 'lip pencil'],
  'Lip Liner',
  ['*shade:Classic Red|Nude Beige|Berry|Coral Pink'],
  { blurbs: ['Creamy and easy to blend.'] },
);
fam(
  'hair_dryer',
  'beauty',
  ['hair dryer', 'blow dryer', 'ionic hair dryer', 'travel hair dryer'],
  'Hair Dryer',
  ['*type:Ionic|Travel|Diffuser', 'power:1875W|1600W', 'colour:Black|Pink|White'],
  { acc: ['diffuser'], blurbs: ['Three heat and two speed settings.', 'Cool shot button sets the style.'] },
);
fam(
  'diffuser',
  'beauty',
  ['diffuser attachment', 'hair dryer diffuser'],
  'Universal Diffuser Attachment',
  ['colour:Black|Purple'],
  { blurbs: ['Fits most hair dryer nozzles.'] },
);
fam(
  'makeup_brushes',
  'beauty',
  ['makeup brushes', 'makeup brush set', 'foundation brush'],
  'Makeup Brush Set',
  ['*pieces:5 Pcs|12 Pcs|16 Pcs', 'colour:Black|Rose Gold|Pink'],
  { acc: ['brush_cleaner'], blurbs: ['Soft synthetic bristles that do not shed.'] },
);
fam(
  'brush_cleaner',
  'beauty',
  ['brush cleaner', 'makeup brush cleaner'],
  'Makeup Brush Cleaner',
  ['*type:Electric Spinner|Silicone Mat'],
  { blurbs: ['Cleans and dries brushes in seconds.'] },
);
fam(
  'moisturizer',
  'beauty',
  ['face moisturizer', 'moisturizer with spf', 'moisturizer for {skin}', 'night cream'],
  'Face Moisturizer',
  ['*spf:SPF 30|SPF 15|No SPF', '*skin:Dry Skin|Oily Skin|Sensitive Skin', 'size:1.7 oz|2.5 oz'],
  { blurbs: ['Hyaluronic acid and ceramides restore the skin barrier.', 'Non-comedogenic and fragrance free.'] },
);

// ── sports & outdoors ────────────────────────────────────────────────────────────────────────
fam(
  'yoga_mat',
  'sports_outdoors',
  ['yoga mat', 'exercise mat', 'thick yoga mat', 'non slip yoga mat'],
  'Yoga Mat',
  ['*thickness:1/8 Inch|1/4 Inch|1/2 Inch', '*material:TPE|PVC|Natural Rubber|Cork', 'colour'],
  { acc: ['yoga_blocks'], blurbs: ['Textured non-slip surface on both sides.', 'Carrying strap included.'] },
);
fam(
  'yoga_blocks',
  'sports_outdoors',
  ['yoga blocks', 'yoga block set'],
  'Yoga Blocks',
  ['*pack:1 Pack|2 Pack', '*material:Foam|Cork|Bamboo'],
  { blurbs: ['Lightweight and firm.'] },
);
fam(
  'dumbbells',
  'sports_outdoors',
  ['dumbbells', 'dumbbell set', 'adjustable dumbbells', '{weight} dumbbells'],
  'Dumbbells',
  ['*weight:5 lb|10 lb|15 lb|25 lb', '*material:Neoprene|Cast Iron|Hex Rubber', 'set:Pair|Single'],
  { related: ['kettlebell'], acc: ['dumbbell_rack'], blurbs: ['Non-slip grip.', 'Hexagon shape stops rolling.'] },
);
fam(
  'kettlebell',
  'sports_outdoors',
  ['kettlebell', 'kettlebells'],
  'Kettlebell',
  ['*weight:10 lb|15 lb|20 lb|35 lb', 'material:Cast Iron|Vinyl'],
  { related: ['dumbbells'], blurbs: ['Wide handle for two-handed swings.'] },
);
fam('dumbbell_rack', 'sports_outdoors', ['dumbbell rack', 'weight rack'], 'Dumbbell Rack', ['*tiers:2 Tier|3 Tier'], {
  blurbs: ['Holds up to 400 lb.'],
});
fam(
  'tent',
  'sports_outdoors',
  ['camping tent', 'tent', '{capacity} tent', 'backpacking tent'],
  'Camping Tent',
  ['*capacity:2 Person|4 Person|6 Person', '*season:3 Season|4 Season', 'colour:Green|Grey|Orange'],
  { acc: ['sleeping_bag', 'tent_stakes'], blurbs: ['Sets up in under five minutes.', 'Rainfly with taped seams.'] },
);
fam(
  'sleeping_bag',
  'sports_outdoors',
  ['sleeping bag', 'camping sleeping bag'],
  'Sleeping Bag',
  ['*rating:20°F|30°F|40°F', 'shape:Mummy|Rectangular'],
  { blurbs: ['Compression sack included.'] },
);
fam(
  'tent_stakes',
  'sports_outdoors',
  ['tent stakes', 'tent pegs'],
  'Tent Stakes',
  ['*pack:10 Pack|20 Pack', 'material:Aluminum|Steel'],
  { blurbs: ['Holds in hard ground.'] },
);
fam(
  'bike_helmet',
  'sports_outdoors',
  ['bike helmet', 'bicycle helmet', 'cycling helmet'],
  'Bike Helmet',
  ['*size:Small|Medium|Large', '*colour:Black|White|Red|Blue'],
  { acc: ['bike_light'], blurbs: ['Adjustable dial fit.', 'Meets CPSC safety standards.'] },
);
fam(
  'bike_light',
  'sports_outdoors',
  ['bike light', 'bike lights set'],
  'Bike Light Set',
  ['*type:USB Rechargeable|Battery'],
  { blurbs: ['Front and rear lights, visible from 500 m.'] },
);

// ── apparel ──────────────────────────────────────────────────────────────────────────────────
fam(
  'running_shoes',
  'apparel',
  ['running shoes', '{gender} running shoes', 'sneakers', 'running sneakers'],
  'Running Shoes',
  [
    "*gender:Men's|Women's",
    '*size:Size 8|Size 9|Size 10|Size 11',
    '*colour:Black|White|Grey|Navy Blue',
    'width:Regular|Wide',
  ],
  {
    related: ['walking_shoes'],
    acc: ['socks', 'insoles'],
    blurbs: ['Breathable knit upper.', 'Responsive foam midsole.'],
  },
);
fam(
  'walking_shoes',
  'apparel',
  ['walking shoes', 'slip on sneakers'],
  'Walking Shoes',
  ["*gender:Men's|Women's", '*size:Size 8|Size 9|Size 10', 'colour:Black|White|Beige'],
  { related: ['running_shoes'], blurbs: ['Memory foam insole.'] },
);
fam(
  'socks',
  'apparel',
  ['socks', 'athletic socks', 'ankle socks'],
  'Athletic Socks',
  ['*type:Ankle|Crew|No Show', '*pack:6 Pairs|10 Pairs', 'colour:Black|White|Assorted'],
  { blurbs: ['Cushioned sole.'] },
);
fam(
  'insoles',
  'apparel',
  ['insoles', 'shoe insoles', 'arch support insoles'],
  'Arch Support Insoles',
  ["*size:Men's 8-12|Women's 6-10"],
  { blurbs: ['Trim to fit.'] },
);
fam(
  'hoodie',
  'apparel',
  ['hoodie', '{gender} hoodie', 'pullover hoodie', 'zip up hoodie'],
  'Hoodie',
  ["*gender:Men's|Women's", '*size:S|M|L|XL|XXL', '*colour', 'material:Cotton Blend|Fleece'],
  { related: ['sweatshirt'], blurbs: ['Kangaroo pocket.', 'Pre-shrunk cotton blend.'] },
);
fam(
  'sweatshirt',
  'apparel',
  ['sweatshirt', 'crewneck sweatshirt'],
  'Crewneck Sweatshirt',
  ['*size:S|M|L|XL', '*colour'],
  { related: ['hoodie'], blurbs: ['Relaxed fit.'] },
);
fam(
  'rain_jacket',
  'apparel',
  ['rain jacket', 'waterproof jacket', '{gender} rain jacket'],
  'Rain Jacket',
  ["*gender:Men's|Women's", '*size:S|M|L|XL', 'colour:Black|Navy Blue|Yellow|Olive'],
  { related: ['windbreaker'], blurbs: ['Packs into its own pocket.', 'Adjustable hood.'] },
);
fam(
  'windbreaker',
  'apparel',
  ['windbreaker', 'lightweight jacket'],
  'Windbreaker Jacket',
  ['*size:S|M|L|XL', 'colour:Black|Navy Blue|Red'],
  { related: ['rain_jacket'], blurbs: ['Water resistant shell.'] },
);
fam(
  'winter_gloves',
  'apparel',
  ['winter gloves', 'touchscreen gloves', 'gloves'],
  'Winter Gloves',
  ['*size:S|M|L', '*colour:Black|Grey|Brown'],
  { blurbs: ['Fleece lined.', 'Touchscreen fingertips.'] },
);

// ── grocery ──────────────────────────────────────────────────────────────────────────────────
fam(
  'coffee_beans',
  'grocery',
  ['coffee beans', 'whole bean coffee', '{roast} coffee', 'ground coffee'],
  'Coffee',
  ['*roast:Light Roast|Medium Roast|Dark Roast', '*form:Whole Bean|Ground', 'size:12 oz Bag|2 lb Bag|5 lb Bag'],
  {
    related: ['coffee_pods'],
    acc: ['coffee_grinder', 'coffee_filters'],
    blurbs: ['Single origin, roasted in small batches.', 'Notes of chocolate and caramel.'],
  },
);
fam(
  'coffee_pods',
  'grocery',
  ['coffee pods', 'k cups', 'coffee capsules'],
  'Coffee Pods',
  ['*roast:Medium Roast|Dark Roast', '*count:24 Count|72 Count'],
  { related: ['coffee_beans'], blurbs: ['Compatible with most single-serve brewers.'] },
);
fam(
  'olive_oil',
  'grocery',
  ['olive oil', 'extra virgin olive oil'],
  'Olive Oil',
  ['*type:Extra Virgin|Light', '*size:500 ml|1 L|3 L'],
  { blurbs: ['Cold pressed from early harvest olives.'] },
);
fam(
  'green_tea',
  'grocery',
  ['green tea', 'green tea bags', 'matcha green tea'],
  'Green Tea',
  ['*flavour:Jasmine|Matcha|Lemon|Original', '*count:40 Bags|100 Bags'],
  { blurbs: ['Naturally high in antioxidants.'] },
);
fam(
  'protein_bars',
  'grocery',
  ['protein bars', 'keto protein bars', 'high protein bars'],
  'Protein Bars',
  [
    '*flavour:Chocolate Chip|Peanut Butter|Cookies & Cream',
    '*count:12 Count|20 Count',
    'protein:20g Protein|12g Protein',
  ],
  { related: ['protein_powder'], blurbs: ['Low sugar, high fibre.'] },
);
fam(
  'protein_powder',
  'grocery',
  ['protein powder', 'whey protein'],
  'Protein Powder',
  ['*flavour:Chocolate|Vanilla|Unflavored', '*size:2 lb|5 lb'],
  { related: ['protein_bars'], blurbs: ['25 g of protein per scoop.'] },
);

// ── pet supplies ─────────────────────────────────────────────────────────────────────────────
fam(
  'dog_food',
  'pet_supplies',
  ['dog food', 'dry dog food', '{stage} dog food', 'grain free dog food'],
  'Dry Dog Food',
  [
    '*stage:Puppy|Adult|Senior',
    '*flavour:Chicken & Rice|Salmon|Lamb',
    'size:5 lb Bag|15 lb Bag|30 lb Bag',
    'breed:Small Breed|Large Breed',
  ],
  { acc: ['dog_bowl'], blurbs: ['Real meat is the first ingredient.', 'No corn, wheat or soy.'] },
);
fam(
  'dog_bowl',
  'pet_supplies',
  ['dog bowl', 'dog food bowl', 'slow feeder bowl'],
  'Dog Bowl',
  ['*material:Stainless Steel|Ceramic|Plastic', '*size:Small|Large'],
  { blurbs: ['Non-skid base.'] },
);
fam(
  'dog_bed',
  'pet_supplies',
  ['dog bed', 'orthopedic dog bed', '{size} dog bed', 'calming dog bed'],
  'Dog Bed',
  ['*size:Small|Medium|Large|XL', '*type:Orthopedic|Donut Calming|Bolster', 'colour:Grey|Brown|Beige'],
  { blurbs: ['Removable, machine washable cover.'] },
);
fam(
  'dog_shampoo',
  'pet_supplies',
  ['dog shampoo', 'puppy shampoo', 'oatmeal dog shampoo'],
  'Dog Shampoo',
  ['*scent:Oatmeal|Lavender|Unscented', 'size:16 oz|32 oz'],
  { blurbs: ['Soothes itchy skin.'] },
);
fam(
  'cat_litter',
  'pet_supplies',
  ['cat litter', 'clumping cat litter', 'unscented cat litter'],
  'Cat Litter',
  ['*type:Clumping Clay|Crystal|Pine Pellets', '*scent:Unscented|Lavender', 'size:20 lb|40 lb'],
  { acc: ['litter_box'], blurbs: ['99% dust free.', 'Locks in odour for 14 days.'] },
);
fam(
  'litter_box',
  'pet_supplies',
  ['litter box', 'covered litter box'],
  'Litter Box',
  ['*type:Covered|Open|Self-Cleaning'],
  { blurbs: ['High sides stop scatter.'] },
);

// ── automotive ───────────────────────────────────────────────────────────────────────────────
fam(
  'phone_mount',
  'automotive',
  ['car phone mount', 'phone holder for car', 'magnetic phone mount'],
  'Car Phone Mount',
  ['*mount:Air Vent|Dashboard|Windshield|Cup Holder', '*type:Magnetic|Clamp'],
  { acc: ['car_charger'], blurbs: ['One-hand operation.', 'Holds phones from 4 to 7 inches.'] },
);
fam(
  'car_charger',
  'automotive',
  ['car charger', 'usb c car charger'],
  'Car Charger',
  ['*watt:30W|48W|60W', '*ports:2 Port|3 Port'],
  { blurbs: ['Fits any 12V socket.'] },
);
fam(
  'motor_oil',
  'automotive',
  ['motor oil', '{viscosity} motor oil', 'synthetic motor oil'],
  'Motor Oil',
  ['*viscosity:5W-30|0W-20|10W-40', '*type:Full Synthetic|Synthetic Blend|Conventional', 'size:5 Quart|1 Quart'],
  { acc: ['oil_filter'], blurbs: ['Protects engines up to 10,000 miles between changes.'] },
);
fam('oil_filter', 'automotive', ['oil filter', 'engine oil filter'], 'Oil Filter', ['*pack:1 Pack|2 Pack'], {
  blurbs: ['Traps 99% of harmful particles.'],
});
fam(
  'floor_mats',
  'automotive',
  ['car floor mats', 'floor mats', 'all weather floor mats'],
  'Car Floor Mats',
  ['*fit:Universal Fit|Custom Fit', '*colour:Black|Tan|Grey', 'rows:Front & Rear|Front Only'],
  { blurbs: ['Deep channels trap water and mud.', 'Trim to fit.'] },
);
fam(
  'wiper_blades',
  'automotive',
  ['wiper blades', 'windshield wipers', '{length} wiper blades'],
  'Wiper Blades',
  ['*length:16 Inch|22 Inch|26 Inch', '*type:Beam|Hybrid|Conventional'],
  { blurbs: ['Streak-free wipe in all weather.'] },
);
fam(
  'car_shampoo',
  'automotive',
  ['car wash soap', 'car shampoo', 'car wash shampoo'],
  'Car Wash Shampoo',
  ['*size:16 oz|64 oz|1 Gallon', 'type:Foam|Wax Infused'],
  { acc: ['microfiber_towels'], blurbs: ['pH balanced, safe for wax and coatings.'] },
);
fam(
  'microfiber_towels',
  'automotive',
  ['microfiber towels', 'car drying towel'],
  'Microfiber Towels',
  ['*pack:6 Pack|12 Pack|24 Pack', 'colour:Blue|Grey|Assorted'],
  { blurbs: ['Lint free and scratch free.'] },
);
fam(
  'rc_car',
  'toys_games',
  ['remote control car', 'rc car', 'rc truck', 'remote control truck'],
  'Remote Control Car',
  ['*scale:1:16|1:10', '*type:Off-Road Truck|Drift Car|Monster Truck', 'colour:Red|Blue|Green'],
  {
    acc: ['rechargeable_batteries'],
    blurbs: ['Reaches 25 mph.', 'Two rechargeable batteries for 40 minutes of play.'],
  },
);

// ── office ───────────────────────────────────────────────────────────────────────────────────
fam(
  'printer_paper',
  'office_products',
  ['printer paper', 'copy paper', 'a4 paper'],
  'Copy Paper',
  ['*size:Letter 8.5 x 11|A4|Legal', '*reams:1 Ream|5 Reams|10 Reams', 'weight:20 lb|24 lb'],
  { acc: ['printer_ink'], blurbs: ['Bright white for sharp prints.'] },
);
fam(
  'printer_ink',
  'office_products',
  ['printer ink', 'ink cartridges', 'black ink cartridge'],
  'Ink Cartridge',
  ['*colour:Black|Tri-Color|Combo Pack'],
  { blurbs: ['Page yield up to 300 pages.'] },
);
fam(
  'pens',
  'office_products',
  ['ballpoint pens', 'pens', 'black pens', 'blue pens'],
  'Ballpoint Pens',
  ['*colour:Black Ink|Blue Ink|Assorted Colors', '*count:12 Pack|24 Pack|60 Pack', 'point:Medium 1.0mm|Fine 0.7mm'],
  { related: ['gel_pens'], blurbs: ['Smooth writing, no smudges.'] },
);
fam(
  'gel_pens',
  'office_products',
  ['gel pens', 'colored gel pens'],
  'Gel Pens',
  ['*count:12 Pack|48 Pack', 'colour:Black Ink|Assorted Colors'],
  { related: ['pens'], blurbs: ['Quick-drying ink.'] },
);
fam(
  'notebook',
  'office_products',
  ['notebook', 'spiral notebook', '{ruling} notebook', 'notebooks'],
  'Spiral Notebook',
  ['*ruling:College Ruled|Wide Ruled|Dot Grid', '*pack:1 Pack|3 Pack|6 Pack', 'colour:Black|Assorted'],
  { related: ['composition_book'], blurbs: ['Perforated pages tear out cleanly.'] },
);
fam(
  'composition_book',
  'office_products',
  ['composition notebook', 'composition book'],
  'Composition Notebook',
  ['*ruling:College Ruled|Wide Ruled', '*pack:4 Pack|12 Pack'],
  { related: ['notebook'], blurbs: ['100 sheets.'] },
);
fam(
  'monitor_stand',
  'office_products',
  ['monitor stand', 'monitor riser', 'laptop stand'],
  'Monitor Stand',
  ['*material:Wood|Metal|Bamboo', 'colour:Black|White|Natural'],
  { blurbs: ['Raises the screen to eye level.'] },
);

// ── garden ───────────────────────────────────────────────────────────────────────────────────
fam(
  'garden_hose',
  'garden',
  ['garden hose', 'expandable garden hose', '{length} garden hose', 'hose'],
  'Garden Hose',
  ['*length:25 ft|50 ft|100 ft', '*type:Expandable|Rubber|Hybrid'],
  { acc: ['hose_nozzle'], blurbs: ['Kink free and lightweight.', 'Solid brass fittings.'] },
);
fam(
  'hose_nozzle',
  'garden',
  ['hose nozzle', 'spray nozzle', 'garden hose nozzle'],
  'Hose Nozzle',
  ['*patterns:8 Patterns|10 Patterns'],
  { blurbs: ['Thumb control flow.'] },
);
fam(
  'garden_gloves',
  'garden',
  ['garden gloves', 'gardening gloves', 'work gloves'],
  'Gardening Gloves',
  ['*size:S|M|L', '*material:Leather|Nitrile Coated|Bamboo'],
  { blurbs: ['Thorn proof fingertips.'] },
);
fam(
  'plant_pots',
  'garden',
  ['plant pots', 'planters', 'ceramic plant pots', '{size} plant pot'],
  'Plant Pots',
  ['*size:6 Inch|8 Inch|10 Inch', '*material:Ceramic|Terracotta|Plastic', 'pack:2 Pack|3 Pack'],
  { acc: ['potting_soil'], blurbs: ['Drainage holes with saucers.'] },
);
fam(
  'potting_soil',
  'garden',
  ['potting soil', 'potting mix', 'indoor potting soil'],
  'Potting Mix',
  ['*size:8 qt|16 qt|1 cu ft', 'type:Indoor|Cactus|All Purpose'],
  { blurbs: ['Feeds plants for up to six months.'] },
);
fam(
  'bird_feeder',
  'garden',
  ['bird feeder', 'hanging bird feeder'],
  'Bird Feeder',
  ['*type:Hanging|Window|Squirrel Proof'],
  { acc: ['bird_seed'], blurbs: ['Holds 2 lb of seed.'] },
);
fam('bird_seed', 'garden', ['bird seed', 'wild bird seed'], 'Wild Bird Seed', ['*size:5 lb|10 lb|20 lb'], {
  blurbs: ['Attracts cardinals, finches and chickadees.'],
});
fam(
  'pruning_shears',
  'garden',
  ['pruning shears', 'garden shears', 'pruners'],
  'Pruning Shears',
  ['*type:Bypass|Anvil'],
  { blurbs: ['SK5 steel blades.'] },
);
fam(
  'solar_lights',
  'garden',
  ['solar lights', 'solar pathway lights', 'outdoor solar lights'],
  'Solar Pathway Lights',
  ['*pack:6 Pack|8 Pack|12 Pack', 'colour:Warm White|Cool White|Multicolor'],
  { blurbs: ['Turns on automatically at dusk.'] },
);

// ── toys & games ─────────────────────────────────────────────────────────────────────────────
fam(
  'jigsaw_puzzle',
  'toys_games',
  ['jigsaw puzzle', 'puzzle', '{pieces} puzzle', 'puzzles for adults'],
  'Jigsaw Puzzle',
  ['*pieces:300 Piece|500 Piece|1000 Piece', '*theme:Landscape|Animals|Vintage Map|Cats'],
  { acc: ['puzzle_mat'], blurbs: ['Thick pieces that fit snugly.', 'Includes a poster of the picture.'] },
);
fam('puzzle_mat', 'toys_games', ['puzzle mat', 'puzzle roll up mat'], 'Puzzle Mat', ['*size:1000 Piece|1500 Piece'], {
  blurbs: ['Roll up a puzzle in progress.'],
});
fam(
  'building_blocks',
  'toys_games',
  ['building blocks', 'building bricks', 'block set'],
  'Building Blocks Set',
  ['*pieces:500 Pieces|1000 Pieces', '*theme:City|Space|Castle'],
  { blurbs: ['Compatible with major brick brands.'] },
);
fam(
  'plush_toy',
  'toys_games',
  ['plush toy', 'stuffed animal', 'plush'],
  'Plush Toy',
  ['*animal:Bear|Bunny|Dinosaur|Unicorn', 'size:8 Inch|16 Inch'],
  { blurbs: ['Super soft and huggable.'] },
);
fam(
  'dog_toy',
  'pet_supplies',
  ['dog toy', 'plush dog toy', 'squeaky dog toy'],
  'Squeaky Plush Dog Toy',
  ['*animal:Bear|Bunny|Dinosaur|Duck', '*pack:1 Pack|3 Pack'],
  { blurbs: ['Double stitched for tough chewers.'] },
);

// ── books ────────────────────────────────────────────────────────────────────────────────────
fam(
  'crossword_book',
  'books',
  ['crossword puzzle book', 'crossword book', 'puzzle book'],
  'Crossword Puzzle Book',
  ['*level:Easy|Medium|Hard', '*format:Large Print|Pocket Size'],
  { blurbs: ['Over 200 puzzles with answers.'] },
);
fam(
  'coloring_book',
  'books',
  ['coloring book', 'adult coloring book', 'kids coloring book'],
  'Coloring Book',
  ['*audience:Adults|Kids', '*theme:Mandalas|Animals|Flowers'],
  { acc: ['colored_pencils'], blurbs: ['Single-sided pages to prevent bleed-through.'] },
);
fam(
  'colored_pencils',
  'office_products',
  ['colored pencils', 'coloring pencils'],
  'Colored Pencils',
  ['*count:24 Colors|72 Colors|120 Colors'],
  { blurbs: ['Soft cores blend smoothly.'] },
);
fam(
  'cookbook',
  'books',
  ['cookbook', '{topic} cookbook'],
  'Cookbook',
  ['*topic:Air Fryer|Vegetarian|Baking|Instant Pot', '*format:Paperback|Hardcover|Spiral-Bound'],
  { blurbs: ['Over 100 easy recipes with photos.'] },
);
fam('book_light', 'books', ['book light', 'reading light'], 'Book Light', ['*type:Clip-On|Neck'], {
  blurbs: ['Warm amber light is easy on the eyes.'],
});
fam(
  'mystery_novel',
  'books',
  ['mystery novel', 'mystery books', 'thriller novel', 'mystery book'],
  'Mystery Novel',
  ['*format:Paperback|Hardcover|Large Print', 'series:Book 1|Book 2|Book 3'],
  { acc: ['book_light'], blurbs: ['A gripping whodunit set in a small coastal town.', 'From the bestselling author.'] },
);

// ── health ───────────────────────────────────────────────────────────────────────────────────
fam(
  'vitamin_d3',
  'health',
  ['vitamin d3', 'vitamin d', 'vitamin d3 {dose}'],
  'Vitamin D3',
  ['*dose:1000 IU|2000 IU|5000 IU', '*form:Softgels|Gummies|Tablets', 'count:120 Count|360 Count'],
  {
    related: ['multivitamin'],
    acc: ['pill_organizer'],
    blurbs: ['Supports bone and immune health.', 'Third-party tested.'],
  },
);
fam(
  'multivitamin',
  'health',
  ['multivitamin', 'daily multivitamin', 'multivitamin for women'],
  'Multivitamin',
  ['*for:Women|Men|Adults 50+', '*form:Tablets|Gummies'],
  { related: ['vitamin_d3'], blurbs: ['23 essential vitamins and minerals.'] },
);
fam('pill_organizer', 'health', ['pill organizer', 'weekly pill box'], 'Pill Organizer', ['*size:7 Day|14 Day|AM/PM'], {
  blurbs: ['Easy-open lids.'],
});
fam(
  'fish_oil',
  'health',
  ['fish oil', 'omega 3 fish oil'],
  'Omega-3 Fish Oil',
  ['*strength:1000 mg|2000 mg', '*count:90 Softgels|180 Softgels'],
  { blurbs: ['No fishy aftertaste.'] },
);
fam(
  'thermometer',
  'health',
  ['digital thermometer', 'forehead thermometer', 'thermometer'],
  'Digital Thermometer',
  ['*type:Forehead|Oral|Ear'],
  { blurbs: ['Reads in one second.', 'Fever alarm.'] },
);
fam(
  'electric_toothbrush',
  'health',
  ['electric toothbrush', 'sonic toothbrush'],
  'Electric Toothbrush',
  ['*colour:White|Black|Pink', 'modes:3 Modes|5 Modes'],
  { acc: ['brush_heads'], blurbs: ['Two-minute timer.'] },
);
fam(
  'brush_heads',
  'health',
  ['replacement brush heads', 'toothbrush heads'],
  'Replacement Brush Heads',
  ['*pack:4 Pack|8 Pack'],
  { blurbs: ['Fits most sonic handles.'] },
);

// ── baby ─────────────────────────────────────────────────────────────────────────────────────
fam(
  'baby_bottles',
  'baby',
  ['baby bottles', 'anti colic baby bottles', 'glass baby bottles', 'baby bottle'],
  'Baby Bottles',
  ['*size:4 oz|8 oz|9 oz', '*material:Plastic|Glass|Silicone', 'pack:3 Pack|4 Pack'],
  { acc: ['bottle_brush', 'bottle_warmer'], blurbs: ['Anti-colic vent reduces fussing.', 'BPA free.'] },
);
fam('bottle_warmer', 'baby', ['bottle warmer', 'baby bottle warmer'], 'Bottle Warmer', ['*type:Fast|Portable'], {
  blurbs: ['Warms milk evenly in minutes.'],
});
fam(
  'diapers',
  'baby',
  ['diapers', 'size 3 diapers', 'newborn diapers', 'diapers {size}'],
  'Diapers',
  ['*size:Newborn|Size 1|Size 2|Size 3|Size 4', '*count:84 Count|120 Count|198 Count'],
  { acc: ['baby_wipes', 'diaper_bag'], blurbs: ['Up to 12 hours of leak protection.', 'Wetness indicator.'] },
);
fam(
  'baby_wipes',
  'baby',
  ['baby wipes', 'unscented baby wipes', 'wipes'],
  'Baby Wipes',
  ['*scent:Unscented|Fresh', '*count:6 Packs|12 Packs'],
  { blurbs: ['99% water.'] },
);
fam('diaper_bag', 'baby', ['diaper bag', 'diaper bag backpack'], 'Diaper Bag Backpack', ['*colour:Black|Grey|Beige'], {
  blurbs: ['Insulated bottle pockets and a changing pad.'],
});
fam(
  'stroller',
  'baby',
  ['stroller', 'lightweight stroller', 'travel stroller'],
  'Stroller',
  ['*type:Lightweight|Jogging|Travel System', 'colour:Black|Grey|Navy Blue'],
  { acc: ['stroller_organizer'], blurbs: ['Folds with one hand.'] },
);
fam(
  'stroller_organizer',
  'baby',
  ['stroller organizer', 'stroller cup holder'],
  'Stroller Organizer',
  ['colour:Black|Grey'],
  { blurbs: ['Two insulated cup holders.'] },
);
fam(
  'sippy_cup',
  'baby',
  ['sippy cup', 'toddler cup', 'straw cup'],
  'Sippy Cup',
  ['*size:7 oz|10 oz', '*pack:2 Pack|3 Pack'],
  { blurbs: ['Spill proof valve.'] },
);

/** Extra sentences for descriptions, by category and for everything. */
export const CATEGORY_BLURBS: Record<string, string[]> = {
  electronics: ['Includes a USB-C cable.', 'Compatible with iOS and Android.', '18-month warranty.'],
  home_kitchen: ['Dishwasher safe parts.', 'BPA free materials.', 'Easy to clean.'],
  beauty: ['Dermatologist tested.', 'Cruelty free and vegan.', 'Suitable for daily use.'],
  sports_outdoors: ['Built for the trail and the gym.', 'Lightweight and durable.'],
  apparel: ['Machine wash cold.', 'True to size.'],
  grocery: ['Non-GMO.', 'Packed fresh.'],
  pet_supplies: ['Vet recommended.', 'Made for pets of all sizes.'],
  automotive: ['Fits most cars, trucks and SUVs.', 'Weather resistant.'],
  office_products: ['Great for school, home and office.'],
  garden: ['UV and weather resistant.', 'For indoor and outdoor use.'],
  toys_games: ['Ages 3 and up.', 'Makes a great gift.'],
  books: ['Printed on acid-free paper.'],
  health: ['Made in a GMP certified facility.', 'Consult your doctor before use.'],
  baby: ['Free of BPA, phthalates and latex.', 'Tested for safety.'],
};
export const GENERIC_BLURBS = [
  'Satisfaction guaranteed.',
  'Ships in recyclable packaging.',
  'Backed by a one-year warranty.',
  'Loved by thousands of customers.',
  'Great gift idea.',
  'Designed in-house, tested for quality.',
];
export const TITLE_TAILS = [
  'Upgraded Version',
  'Gift for Men & Women',
  '2024 Model',
  'Easy to Clean',
  'Travel Friendly',
  'Value Pack',
  'Premium Quality',
  'for Home & Office',
  'Latest Edition',
  'New',
];

export const FAMILY_LIST: readonly Family[] = FAMILIES;
export const FAMILY: Record<string, Family> = Object.fromEntries(FAMILIES.map((f) => [f.key, f]));

for (const f of FAMILIES) {
  for (const k of [...f.related, ...f.accessories])
    if (!FAMILY[k]) throw new Error(`catalog: ${f.key} names unknown family ${k}`);
  if (!CATEGORY_BRANDS[f.category]) throw new Error(`catalog: ${f.key} has unknown category ${f.category}`);
  for (const text of [...f.names, f.noun]) {
    for (const m of text.matchAll(/\{(\w+)\}/g))
      if (!f.attrs.some((a) => a.name === m[1])) throw new Error(`catalog: ${f.key} has no attribute ${m[1]}`);
  }
}
