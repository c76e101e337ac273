/**
 * intent.csv: search query → category intent.
 *
 * Each row draws a category (in fixed, imbalanced proportions), then a query for it from one of
 * several templates: a product type alone, with a brand, attributes, an audience, a price phrase,
 * a model number, a question, or a vague gift query. What keeps the labels from reading straight
 * off the text:
 *  - product types shared by several categories ("water bottle": kitchen, sports or baby;
 *    "brush": beauty, pet, baby, automotive, kitchen), often without the words that would tell;
 *  - brands that sell in two categories, and model-number queries that only the brand can place;
 *  - generic modifiers (colours, sizes, "under 50", "for kids", "2 pack") shared by every class;
 *  - vague queries ("gift for dad") whose category is whatever the shopper went on to buy;
 *  - a few percent of click-label noise towards a neighbouring category;
 *  - typos, odd casing and doubled spaces.
 */
import { maybeTypo, queryCase } from './noise.js';
import type { Rng } from './prng.js';

export const INTENTS = [
  'electronics',
  'apparel',
  'home_kitchen',
  'beauty',
  'grocery',
  'sports_outdoors',
  'toys_games',
  'books',
  'health',
  'pet_supplies',
  'automotive',
  'office_products',
  'garden',
  'baby',
] as const;
export type Intent = (typeof INTENTS)[number];

/** Share of the rows per category: largest / smallest ≈ 7. */
export const INTENT_WEIGHTS: Record<Intent, number> = {
  electronics: 0.165,
  apparel: 0.135,
  home_kitchen: 0.125,
  beauty: 0.095,
  grocery: 0.08,
  sports_outdoors: 0.075,
  toys_games: 0.065,
  books: 0.055,
  health: 0.05,
  pet_supplies: 0.045,
  automotive: 0.04,
  office_products: 0.03,
  garden: 0.0275,
  baby: 0.0235,
};

interface Lexicon {
  /** Product types that mostly mean this category. */
  types: string[];
  /** Attribute words typical of the category. */
  attrs: string[];
  /** Made-up brands; some are shared with another category on purpose. */
  brands: string[];
  /** "for …" phrases and uses typical of the category. */
  audiences: string[];
}

const LEX: Record<Intent, Lexicon> = {
  electronics: {
    types: ['wireless earbuds', 'bluetooth headphones', 'noise cancelling headphones', 'usb c cable', 'phone charger', 'laptop', 'gaming laptop', 'tablet', 'smart watch', '4k tv', 'soundbar', 'bluetooth speaker', 'portable ssd', 'external hard drive', 'micro sd card', 'hdmi cable', 'wifi router', 'mesh wifi system', 'webcam', 'gaming mouse', 'mechanical keyboard', 'monitor', 'power bank', 'phone case', 'screen protector', 'smart plug', 'security camera', 'drone', 'action camera', 'usb hub', 'graphics card', 'projector', 'streaming stick', 'earphones', 'laptop charger', 'wireless charger', 'ssd 1tb', 'ram 16gb'],
    attrs: ['wireless', 'bluetooth', 'usb c', '4k', '1080p', '64gb', '128gb', '256gb', '1tb', 'noise cancelling', 'fast charging', '65w', 'rgb', 'refurbished', 'gaming', 'portable', 'waterproof', 'magnetic', 'type c', 'hdmi'],
    brands: ['voltix', 'sonara', 'aurel', 'kinetix', 'brightline', 'nexa'],
    audiences: ['for iphone', 'for android', 'for laptop', 'for gaming', 'for ps5', 'for macbook', 'for tv', 'for office'],
  },
  apparel: {
    types: ['running shoes', 'hoodie', 'jeans', 'rain jacket', 'winter coat', 'socks', 't shirt', 'leggings', 'sneakers', 'dress', 'sweater', 'boots', 'sandals', 'swim trunks', 'pajamas', 'baseball cap', 'belt', 'flannel shirt', 'cardigan', 'puffer vest', 'chinos', 'polo shirt', 'underwear', 'slippers', 'beanie', 'scarf', 'bomber jacket', 'maxi dress', 'work pants', 'compression socks'],
    attrs: ['cotton', 'slim fit', 'wool', 'linen', 'xl', 'xxl', 'size 10', 'size 8', 'plus size', 'waterproof', 'oversized', 'high waisted', 'wide', 'fleece lined', 'merino', 'petite', 'tall', 'long sleeve', 'short sleeve', 'vintage'],
    brands: ['peak & trail', 'northwind', 'lumen', 'ardent', 'oakby', 'calloway'],
    audiences: ['for men', 'for women', 'for teens', 'for work', 'for wedding', 'for winter', 'for summer', 'mens', 'womens'],
  },
  home_kitchen: {
    types: ['coffee maker', 'air fryer', 'frying pan', 'cast iron skillet', 'knife set', 'bed sheets', 'duvet cover', 'bath towels', 'shower curtain', 'blender', 'toaster', 'dinnerware set', 'food storage containers', 'cutting board', 'kettle', 'vacuum cleaner', 'robot vacuum', 'throw pillow covers', 'area rug', 'curtains', 'dish rack', 'mixing bowls', 'wine glasses', 'slow cooker', 'instant pot', 'pillows', 'mattress topper', 'spice rack', 'trash can', 'coffee mugs', 'baking sheet', 'can opener'],
    attrs: ['stainless steel', 'nonstick', 'ceramic', 'glass', 'queen', 'king', 'twin', 'cotton', 'bamboo', 'dishwasher safe', 'large', '12 cup', '6 qt', 'programmable', 'farmhouse', 'blackout', 'microfiber', 'linen', 'cordless'],
    brands: ['kitchara', 'homely', 'nordvik', 'casa verde', 'ironleaf', 'lumen'],
    audiences: ['for kitchen', 'for bedroom', 'for bathroom', 'for small apartment', 'for dorm', 'for guests', 'for camping'],
  },
  beauty: {
    types: ['shampoo', 'conditioner', 'face moisturizer', 'lipstick', 'mascara', 'foundation', 'hair dryer', 'flat iron', 'curling iron', 'makeup brushes', 'nail polish', 'perfume', 'eyeshadow palette', 'face wash', 'retinol serum', 'vitamin c serum', 'dry shampoo', 'hair mask', 'body lotion', 'lip balm', 'eyeliner', 'setting spray', 'micellar water', 'concealer', 'hair oil', 'sheet masks', 'cologne', 'beard oil', 'false lashes', 'body wash'],
    attrs: ['matte', 'spf 30', 'spf 50', 'vegan', 'fragrance free', 'for curly hair', 'for dry skin', 'for oily skin', 'waterproof', 'nude', 'red', 'long lasting', 'sulfate free', 'organic', 'travel size', 'hydrating', 'cruelty free', 'tinted'],
    brands: ['purely', 'belle rose', 'aurel', 'maison lune', 'velvetine', 'glowco'],
    audiences: ['for women', 'for men', 'for sensitive skin', 'for acne', 'for damaged hair', 'for fine hair', 'for teens', 'for mature skin'],
  },
  grocery: {
    types: ['coffee beans', 'ground coffee', 'green tea', 'olive oil', 'protein bars', 'pasta', 'rice', 'peanut butter', 'granola', 'oat milk', 'almonds', 'honey', 'hot sauce', 'dark chocolate', 'sparkling water', 'coffee pods', 'maple syrup', 'chia seeds', 'trail mix', 'beef jerky', 'flour', 'cereal', 'kombucha', 'instant noodles', 'popcorn', 'spices', 'baking soda', 'energy drink', 'matcha powder'],
    attrs: ['organic', 'gluten free', 'keto', 'decaf', 'dark roast', 'medium roast', 'extra virgin', 'unsweetened', 'sugar free', 'bulk', 'raw', 'whole bean', 'vegan', 'low sodium', 'non gmo', 'family size', 'kosher', 'spicy'],
    brands: ['harvest hill', 'casa verde', 'golden acre', 'good batch', 'nordvik'],
    audiences: ['for breakfast', 'for baking', 'for keto diet', 'for snacking', 'for office', 'for kids lunch'],
  },
  sports_outdoors: {
    types: ['yoga mat', 'dumbbells', 'camping tent', 'sleeping bag', 'bike helmet', 'resistance bands', 'kettlebell', 'hiking backpack', 'trekking poles', 'jump rope', 'foam roller', 'pull up bar', 'camping chair', 'headlamp', 'fishing rod', 'tennis racket', 'basketball', 'soccer ball', 'golf balls', 'bike lock', 'kayak paddle', 'camping stove', 'hammock', 'weight bench', 'exercise bike', 'swim goggles', 'cooler', 'climbing chalk'],
    attrs: ['adjustable', 'lightweight', 'waterproof', 'ultralight', '2 person', '4 person', 'non slip', 'thick', 'heavy duty', 'foldable', 'insulated', 'collapsible', '20 lb', '10 lb', 'carbon', 'inflatable', 'quick dry'],
    brands: ['peak & trail', 'summit', 'kinetix', 'ridgeline', 'tidewater'],
    audiences: ['for camping', 'for hiking', 'for gym', 'for home workout', 'for running', 'for beginners', 'for backpacking', 'for fishing'],
  },
  toys_games: {
    types: ['building blocks', 'jigsaw puzzle', 'board game', 'remote control car', 'plush toy', 'dollhouse', 'action figure', 'lego set', 'card game', 'play kitchen', 'stem kit', 'nerf gun', 'toy train set', 'slime kit', 'magnetic tiles', 'rc helicopter', 'kids scooter', 'water gun', 'stuffed animal', 'marble run', 'doll', 'puzzle 1000 pieces', 'dinosaur toys', 'bath toys', 'fidget toys', 'kite'],
    attrs: ['1000 piece', '500 piece', 'educational', 'wooden', 'rechargeable', 'interactive', 'magnetic', 'glow in the dark', 'montessori', 'family', 'strategy', 'cooperative', 'mini', 'giant'],
    brands: ['little fox', 'brickly', 'funhaus', 'wonderkin', 'kinetix'],
    audiences: ['for 5 year old', 'for 3 year olds', 'for boys 8-10', 'for girls', 'for kids', 'for adults', 'for family game night', 'for toddlers'],
  },
  books: {
    types: ['cookbook', 'mystery novel', 'picture book', 'coloring book', 'fantasy series', 'romance novel', 'biography', 'self help book', 'graphic novel', 'history book', 'sci fi novel', 'poetry collection', 'thriller paperback', 'workbook', 'bible', 'manga', 'audiobook', 'journal prompts book', 'travel guide', 'textbook', 'memoir', 'chapter books', 'crossword puzzle book', 'board books'],
    attrs: ['paperback', 'hardcover', 'kindle', 'large print', 'box set', 'signed', 'illustrated', 'used', 'first edition', 'bestseller', 'new release', 'spanish edition', 'audible'],
    brands: ['penwright', 'harbor house', 'inkwell press', 'little fox'],
    audiences: ['for teens', 'for kids', 'for beginners', 'for women', 'for book club', 'for adults', 'for 2nd grade'],
  },
  health: {
    types: ['vitamin d3', 'fish oil', 'multivitamin', 'digital thermometer', 'blood pressure monitor', 'first aid kit', 'knee brace', 'melatonin', 'probiotics', 'magnesium', 'heating pad', 'pulse oximeter', 'collagen powder', 'reading glasses', 'hand sanitizer', 'face masks', 'compression sleeve', 'ice pack', 'allergy relief', 'electrolyte powder', 'posture corrector', 'pill organizer', 'back brace', 'elderberry gummies', 'zinc'],
    attrs: ['5000 iu', '1000 iu', 'gummies', 'capsules', 'sugar free', 'extra strength', 'vegan', 'unflavored', 'fda approved', 'non contact', 'adjustable', '120 count', 'liquid', 'chewable', 'time release'],
    brands: ['purely', 'vitalis', 'careplus', 'good batch', 'medica'],
    audiences: ['for adults', 'for women', 'for men', 'for seniors', 'for sleep', 'for joint pain', 'for immune support', 'for back pain'],
  },
  pet_supplies: {
    types: ['dog food', 'cat litter', 'dog bed', 'cat tree', 'dog leash', 'dog harness', 'cat food', 'dog treats', 'chew toys', 'litter box', 'pet carrier', 'aquarium filter', 'bird cage', 'dog crate', 'flea collar', 'catnip', 'fish food', 'hamster cage', 'scratching post', 'poop bags', 'puppy pads', 'dog bowl', 'cat fountain', 'dog raincoat'],
    attrs: ['grain free', 'small breed', 'large breed', 'senior', 'clumping', 'unscented', 'orthopedic', 'no pull', 'salmon', 'chicken', 'reflective', 'indestructible', 'calming', 'airline approved', 'self cleaning'],
    brands: ['pawsome', 'whisker & co', 'homely', 'tailwind', 'ridgeline'],
    audiences: ['for dogs', 'for cats', 'for puppies', 'for small dogs', 'for large dogs', 'for kittens', 'for senior dogs', 'for aggressive chewers'],
  },
  automotive: {
    types: ['car phone mount', 'motor oil', 'car floor mats', 'wiper blades', 'tire inflator', 'jump starter', 'car vacuum', 'seat covers', 'dash cam', 'oil filter', 'car wax', 'headlight bulbs', 'tire pressure gauge', 'brake pads', 'car battery', 'microfiber towels', 'steering wheel cover', 'trunk organizer', 'roof rack', 'spark plugs', 'car air freshener', 'tow strap', 'backup camera', 'car cover'],
    attrs: ['5w-30', '0w-20', 'full synthetic', 'all weather', '22 inch', 'led', '12v', 'universal', 'heavy duty', 'waterproof', 'ceramic', 'portable', 'cordless', 'for suv', 'for truck'],
    brands: ['roadmaster', 'torqueline', 'kinetix', 'voltix', 'ironleaf'],
    audiences: ['for car', 'for truck', 'for suv', 'for honda civic', 'for toyota camry', 'for jeep', 'for ford f150'],
  },
  office_products: {
    types: ['printer paper', 'ballpoint pens', 'desk organizer', 'stapler', 'sticky notes', 'notebook', 'planner', 'highlighters', 'file folders', 'whiteboard', 'label maker', 'printer ink', 'paper shredder', 'desk chair', 'standing desk', 'laminator', 'envelopes', 'binder clips', 'dry erase markers', 'calculator', 'desk mat', 'monitor stand', 'packing tape', 'gel pens'],
    attrs: ['college ruled', 'wide ruled', 'a4', 'letter size', 'black ink', 'fine point', 'refillable', 'ergonomic', 'dot grid', 'undated', '2025', 'heavy duty', 'bulk', 'assorted colors', 'magnetic'],
    brands: ['brightline', 'penwright', 'deskly', 'inkwell press', 'nexa'],
    audiences: ['for office', 'for school', 'for home office', 'for teachers', 'for students', 'for work', 'for college'],
  },
  garden: {
    types: ['garden hose', 'garden gloves', 'plant pots', 'bird feeder', 'pruning shears', 'solar lights', 'potting soil', 'raised garden bed', 'lawn mower', 'hedge trimmer', 'grass seed', 'fertilizer', 'watering can', 'leaf blower', 'hose nozzle', 'wheelbarrow', 'compost bin', 'weed killer', 'patio furniture', 'seed starter kit', 'trellis', 'garden kneeler', 'sprinkler', 'bird bath'],
    attrs: ['expandable', '50 ft', '100 ft', 'ceramic', 'terracotta', 'solar powered', 'cordless', 'organic', 'heavy duty', 'outdoor', 'drainage holes', 'battery powered', 'galvanized', 'self watering', 'hanging'],
    brands: ['greenthumb', 'homely', 'nordvik', 'ironleaf', 'tidewater'],
    audiences: ['for vegetables', 'for tomatoes', 'for indoor plants', 'for lawn', 'for roses', 'for patio', 'for succulents', 'for backyard'],
  },
  baby: {
    types: ['baby bottles', 'diapers', 'baby wipes', 'stroller', 'baby monitor', 'sippy cup', 'car seat', 'swaddle', 'pacifier', 'crib mattress', 'high chair', 'baby carrier', 'diaper bag', 'teething toys', 'baby bath tub', 'bibs', 'play mat', 'breast pump', 'onesies', 'baby gate', 'bottle warmer', 'nursing pillow', 'baby formula', 'bouncer'],
    attrs: ['newborn', 'size 3', 'size 4', 'anti colic', 'bpa free', 'organic cotton', 'hypoallergenic', 'unscented', 'convertible', 'lightweight', 'video', 'glass', 'silicone', '0-3 months', '6-12 months', 'gender neutral'],
    brands: ['little fox', 'cuddlebug', 'purely', 'wonderkin', 'careplus'],
    audiences: ['for newborn', 'for toddlers', 'for infants', 'for baby girl', 'for baby boy', 'for twins', 'for breastfeeding'],
  },
};

/**
 * Product types that several categories sell, with the category-specific qualifiers a shopper
 * might add. A qualifier may be missing or itself ambiguous, so the same query text shows up
 * under different labels — as in real search logs.
 */
const SHARED: Record<string, Partial<Record<Intent, string[]>>> = {
  'water bottle': { sports_outdoors: ['insulated', 'for gym', 'hiking', 'kids'], home_kitchen: ['glass', 'stainless steel', '32 oz'], baby: ['kids', 'toddler', 'spill proof'], toys_games: ['kids', 'unicorn'] },
  brush: { beauty: ['hair', 'detangling', 'round'], pet_supplies: ['dog', 'deshedding', 'grooming'], baby: ['bottle', 'soft'], automotive: ['detailing', 'wheel'], home_kitchen: ['bottle', 'dish', 'toilet'] },
  backpack: { sports_outdoors: ['hiking', '40l', 'waterproof'], office_products: ['laptop', 'for work'], baby: ['diaper'], apparel: ['mini', 'leather'], toys_games: ['kids', 'dinosaur'] },
  gloves: { apparel: ['winter', 'touchscreen', 'leather'], garden: ['gardening', 'thorn proof'], sports_outdoors: ['cycling', 'weight lifting', 'ski'], health: ['nitrile', 'disposable'], home_kitchen: ['oven', 'dishwashing'] },
  shampoo: { beauty: ['sulfate free', 'for curly hair', 'clarifying'], pet_supplies: ['dog', 'oatmeal', 'flea'], baby: ['tear free', 'baby'], automotive: ['car wash', 'foam'] },
  scissors: { office_products: ['8 inch', 'bulk'], beauty: ['hair cutting', 'thinning'], garden: ['pruning', 'bonsai'], home_kitchen: ['kitchen', 'poultry'], baby: ['nail', 'safety'] },
  mat: { sports_outdoors: ['yoga', 'exercise', 'non slip'], automotive: ['floor', 'all weather'], home_kitchen: ['bath', 'kitchen', 'anti fatigue'], baby: ['play', 'foam'], pet_supplies: ['cooling', 'litter'], office_products: ['desk', 'chair'] },
  lamp: { home_kitchen: ['floor', 'bedside', 'table'], office_products: ['desk', 'led desk'], garden: ['solar', 'outdoor'], baby: ['night light', 'nursery'], electronics: ['smart', 'rgb'] },
  thermometer: { health: ['forehead', 'digital', 'ear'], baby: ['bath', 'baby'], home_kitchen: ['meat', 'candy', 'oven'], garden: ['outdoor', 'soil'], pet_supplies: ['aquarium'] },
  blanket: { home_kitchen: ['throw', 'weighted', 'fleece'], baby: ['swaddle', 'muslin', 'baby'], pet_supplies: ['dog', 'pet', 'waterproof'], sports_outdoors: ['picnic', 'camping'] },
  bed: { home_kitchen: ['frame', 'queen', 'platform'], pet_supplies: ['dog', 'cat', 'orthopedic'], garden: ['raised', 'flower'], baby: ['toddler', 'travel'] },
  charger: { electronics: ['usb c', 'fast', 'wireless'], automotive: ['car', 'battery', '12v'], toys_games: ['rc car'], garden: ['mower battery'] },
  tape: { office_products: ['scotch', 'packing', 'double sided'], automotive: ['electrical', 'duct'], health: ['kinesiology', 'medical'], sports_outdoors: ['athletic', 'hockey'] },
  oil: { grocery: ['olive', 'avocado', 'coconut'], automotive: ['motor', 'engine', '5w-30'], beauty: ['hair', 'argan', 'jojoba'], health: ['fish', 'cbd', 'krill'], home_kitchen: ['diffuser'] },
  seeds: { garden: ['vegetable', 'flower', 'grass'], grocery: ['chia', 'pumpkin', 'sunflower'], pet_supplies: ['bird', 'parakeet'] },
  'puzzle': { toys_games: ['1000 piece', 'wooden', 'jigsaw'], books: ['crossword', 'sudoku', 'logic'], pet_supplies: ['dog', 'treat'], baby: ['peg', 'first'] },
  cover: { automotive: ['seat', 'car', 'steering wheel'], electronics: ['phone', 'ipad', 'keyboard'], home_kitchen: ['duvet', 'pillow', 'couch'], garden: ['patio furniture', 'grill'], baby: ['car seat', 'nursing'] },
  cleaner: { automotive: ['interior', 'wheel', 'glass'], home_kitchen: ['all purpose', 'oven', 'carpet'], electronics: ['screen', 'keyboard'], pet_supplies: ['enzyme', 'stain'] },
  snacks: { grocery: ['healthy', 'salty', 'variety pack'], pet_supplies: ['dog', 'cat', 'freeze dried'], baby: ['toddler', 'puffs'] },
  vitamins: { health: ['adult', 'women', 'gummy'], pet_supplies: ['dog', 'joint'], baby: ['prenatal', 'kids'], grocery: ['drink mix'] },
  light: { electronics: ['ring', 'smart', 'led strip'], automotive: ['head', 'fog', 'led bar'], garden: ['solar', 'string', 'pathway'], sports_outdoors: ['bike', 'camping'], baby: ['night'] },
  towel: { home_kitchen: ['bath', 'hand', 'turkish'], sports_outdoors: ['cooling', 'microfiber', 'beach'], baby: ['hooded'], automotive: ['drying'], beauty: ['hair'] },
  bag: { apparel: ['tote', 'crossbody', 'leather'], sports_outdoors: ['duffel', 'dry', 'gym'], baby: ['diaper', 'hospital'], grocery: ['reusable'], office_products: ['laptop', 'messenger'] },
  cup: { baby: ['sippy', 'straw'], home_kitchen: ['coffee', 'travel', 'measuring'], sports_outdoors: ['camping', 'collapsible'], health: ['menstrual'] },
  watch: { electronics: ['smart', 'fitness'], apparel: ['mens', 'gold', 'leather'], sports_outdoors: ['running', 'gps'], toys_games: ['kids', 'walkie talkie'] },
  'fitness tracker': { electronics: ['bluetooth', 'with gps'], sports_outdoors: ['running', 'swim'], health: ['sleep', 'heart rate'] },
  'e-reader': { electronics: ['waterproof', '8gb'], books: ['kindle', 'paperwhite'] },
  'massage gun': { health: ['deep tissue', 'mini'], sports_outdoors: ['athletes', 'recovery'], beauty: ['facial'] },
  'scale': { health: ['bathroom', 'body fat', 'digital'], home_kitchen: ['kitchen', 'food'], grocery: ['coffee'], baby: ['baby'] },
  'storage bins': { home_kitchen: ['closet', 'fabric', 'under bed'], office_products: ['file', 'desk'], garden: ['outdoor', 'deck box'], toys_games: ['toy'], automotive: ['trunk'] },
  'pencils': { office_products: ['#2', 'mechanical'], toys_games: ['colored', 'crayons'], books: ['coloring book'], beauty: ['eyebrow', 'lip liner'] },
  'stand': { office_products: ['laptop', 'monitor'], garden: ['plant', 'hose reel'], electronics: ['phone', 'headphone'], home_kitchen: ['cake', 'paper towel'], sports_outdoors: ['bike'] },
  'cream': { beauty: ['face', 'eye', 'night'], health: ['hydrocortisone', 'pain relief', 'diaper rash'], baby: ['diaper rash', 'baby'], grocery: ['heavy', 'sour', 'coconut'] },
};

/** Where a noisy click label tends to land instead: a neighbouring category. */
const NEIGHBOURS: Record<Intent, Intent[]> = {
  electronics: ['office_products', 'automotive', 'toys_games'],
  apparel: ['sports_outdoors', 'beauty'],
  home_kitchen: ['garden', 'grocery', 'baby'],
  beauty: ['health', 'apparel'],
  grocery: ['health', 'home_kitchen', 'pet_supplies'],
  sports_outdoors: ['apparel', 'health', 'garden'],
  toys_games: ['baby', 'books', 'electronics'],
  books: ['toys_games', 'office_products'],
  health: ['beauty', 'grocery', 'baby'],
  pet_supplies: ['home_kitchen', 'garden'],
  automotive: ['electronics', 'home_kitchen'],
  office_products: ['electronics', 'books', 'home_kitchen'],
  garden: ['home_kitchen', 'sports_outdoors'],
  baby: ['toys_games', 'health', 'apparel'],
};

const COLOURS = ['black', 'white', 'red', 'blue', 'pink', 'grey', 'gray', 'navy', 'green', 'beige', 'gold', 'silver', 'clear', 'purple', 'brown', 'teal', 'sage green', 'rose gold'];
const SIZES = ['small', 'large', 'xl', 'mini', 'big', 'medium', 'extra large', 'compact'];
const PRICES = ['under 20', 'under 25', 'under 50', 'under $50', 'under 100', 'under $30', 'cheap', 'budget', 'best', 'premium', 'on sale', 'deals', 'clearance', 'affordable'];
const PACKS = ['2 pack', '3 pack', 'set of 4', 'bulk', '6 count', '12 pack', 'pack of 2', '10 pack', 'value pack'];
const GENERIC_AUDIENCES = ['for kids', 'for men', 'for women', 'for girls', 'for boys', 'for mom', 'for dad', 'for him', 'for her', 'for travel', 'for home', 'for gift'];
const YEARS = ['2024', '2025', 'new', 'latest'];
const VAGUE = [
  'gift for dad', 'gifts for mom', 'birthday gift for her', 'birthday present for 10 year old', 'christmas gifts under 25', 'stocking stuffers',
  'white elephant gift', 'back to school', 'dorm essentials', 'gift for coworker', 'mothers day gift', 'fathers day ideas', 'housewarming gift',
  'gifts for teens', 'valentines day gift for him', 'graduation gift', 'retirement gift', 'easter basket stuffers', 'travel essentials',
  'new home essentials', 'self care gift', 'secret santa under 20', 'gift for nurse', 'gifts for grandma', 'something for a 1 year old',
  'prime day deals', 'best sellers', 'top rated', 'trending now', 'gift ideas',
];
const QUESTIONS = ['what is the best {t}', 'best {t} for {a}', 'which {t} to buy', 'how to choose {t}', '{t} vs', '{t} reviews', 'is {t} worth it', 'cheapest {t} near me'];

function modelCode(rng: Rng): string {
  const letters = 'abcdefghjkmnprstvwxz';
  const prefix = letters[rng.int(letters.length)] + (rng.chance(0.6) ? letters[rng.int(letters.length)] : '');
  const num = rng.pick(['100', '200', '250', '300', '500', '700', '900', '1000', '2', '3', '5', '7', '12', 'x', 'pro', 's', 'max', 'mini']);
  return rng.chance(0.5) ? `${prefix}${num}` : `${prefix}-${num}`;
}

function sharedTypesOf(intent: Intent): [string, string[]][] {
  return Object.entries(SHARED)
    .filter(([, by]) => by[intent])
    .map(([t, by]) => [t, by[intent]!]);
}

/** The product type part of a query: a category's own type, or a shared one (maybe qualified). */
function productType(rng: Rng, intent: Intent, pShared: number): string {
  const shared = sharedTypesOf(intent);
  if (shared.length > 0 && rng.chance(pShared)) {
    const [t, quals] = rng.pick(shared);
    // Half the time the shopper gives no qualifier: the query alone cannot tell the category.
    return rng.chance(0.5) ? `${rng.pick(quals)} ${t}` : t;
  }
  return rng.pick(LEX[intent].types);
}

export interface IntentOptions {
  /** Share of queries built on a product type several categories sell. */
  pShared: number;
  /** Share of vague queries (gifts, "best sellers") whose text says nothing of the category. */
  pVague: number;
  /** Share of labels moved to a neighbouring category (click noise). */
  pNoise: number;
  /** Typo probability per query. */
  pTypo: number;
}

export const INTENT_DEFAULTS: IntentOptions = { pShared: 0.24, pVague: 0.04, pNoise: 0.05, pTypo: 0.12 };

export function makeQuery(rng: Rng, intent: Intent, opt: IntentOptions = INTENT_DEFAULTS): string {
  const lex = LEX[intent];
  if (rng.chance(opt.pVague)) return queryCase(rng, maybeTypo(rng, rng.pick(VAGUE), opt.pTypo));
  // A shared product type takes only generic audiences ("aquarium thermometer for cats" is out).
  let shared = false;
  const t = () => {
    const type = productType(rng, intent, opt.pShared);
    shared = !LEX[intent].types.includes(type);
    return type;
  };
  const attr = () => (rng.chance(0.7) ? rng.pick(lex.attrs) : rng.pick(COLOURS));
  const aud = () => (!shared && rng.chance(0.6) ? rng.pick(lex.audiences) : rng.pick(GENERIC_AUDIENCES));
  const brand = () => rng.pick(lex.brands);
  // One category attribute, maybe after a colour: "purple clumping", never "256gb 1tb".
  const attrs2 = () => (rng.chance(0.5) ? `${rng.pick(COLOURS)} ${rng.pick(lex.attrs)}` : rng.pick(lex.attrs));
  const template = rng.weighted<() => string>([
    [() => t(), 14],
    [() => `${brand()} ${t()}`, 11],
    [() => `${attr()} ${t()}`, 16],
    [() => `${t()} ${attr()}`, 6],
    [() => `${rng.pick(COLOURS)} ${t()}`, 6],
    [() => `${t()} ${aud()}`, 9],
    [() => (rng.chance(0.5) ? `${t()} ${rng.pick(PRICES.slice(0, 7))}` : `${rng.pick(PRICES.slice(6))} ${t()}`), 7],
    [() => `${brand()} ${rng.pick(lex.attrs)} ${t()} ${rng.pick([...COLOURS, ...SIZES])}`, 6],
    [() => `${attrs2()} ${t()} ${aud()} ${rng.pick(PRICES.slice(0, 7))}`, 4],
    [() => `${brand()} ${modelCode(rng)}${rng.chance(0.4) ? ' ' + rng.pick(['replacement', 'manual', 'parts', 'review', 'case', 'charger', 'refill', 'accessories']) : ''}`, 4],
    [() => `${t()} ${rng.pick(PACKS)}`, 4],
    [() => `${rng.pick(['best', 'top rated', 'top'])} ${t()} ${rng.pick(YEARS)}`, 3],
    [() => rng.pick(QUESTIONS).replace('{t}', t()).replace('{a}', aud().replace(/^for /, '')), 2],
    [() => `${rng.pick(SIZES)} ${t()}`, 4],
    [() => brand(), 2],
  ]);
  let q = template().replace(/\s+/g, ' ').trim();
  q = maybeTypo(rng, q, opt.pTypo);
  return queryCase(rng, q);
}

export interface IntentRow extends Record<string, string> {
  query_id: string;
  query: string;
  intent: string;
}

/** Rows per class: the weights times `total`, at least 2 each, rounded by largest remainder. */
export function classCounts<K extends string>(weights: Record<K, number>, total: number, min = 2): Record<K, number> {
  const keys = Object.keys(weights) as K[];
  const sum = keys.reduce((s, k) => s + weights[k], 0);
  const exact = keys.map((k) => (weights[k] / sum) * total);
  const counts = exact.map((x) => Math.max(min, Math.floor(x)));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = keys.map((_, i) => i).sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  for (let j = 0; left > 0; j = (j + 1) % order.length, left--) counts[order[j]]++;
  return Object.fromEntries(keys.map((k, i) => [k, counts[i]])) as Record<K, number>;
}

export function generateIntent(rng: Rng, total: number, opt: IntentOptions = INTENT_DEFAULTS): IntentRow[] {
  const counts = classCounts(INTENT_WEIGHTS, total);
  const drawn: Intent[] = [];
  for (const intent of INTENTS) for (let i = 0; i < counts[intent]; i++) drawn.push(intent);
  rng.shuffle(drawn);
  return drawn.map((intent, i) => {
    const query = makeQuery(rng, intent, opt);
    // Click noise: the label is what was bought, sometimes a neighbouring category. The class
    // counts above are of the intents queries were made for; noise moves a few across.
    const label = rng.chance(opt.pNoise) ? rng.pick(NEIGHBOURS[intent]) : intent;
    return { query_id: `iq${String(i + 1).padStart(5, '0')}`, query, intent: label };
  });
}
