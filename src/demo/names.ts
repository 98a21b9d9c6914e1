/**
 * Word lists for realistic demo data: people from many places (accents, apostrophes, non-Latin
 * scripts), and the departments, qualifiers and regions that queue and inbox names are made of.
 * A name written in a non-Latin script carries its romanization after a `|`, for the email.
 */

export const FIRST_NAMES: readonly string[] = `
Ana Bo Chen Dara Emile Farah Goran Kemal Lena Marco Nadia Oscar Priya Quentin Rosa Sven Tariq Uma
Viktor Wen Ximena Yusuf Zoë José María Łukasz Søren Björn François Amélie Renée Jürgen Zoltán
Ángel Inés Çağla Şebnem İlker Ömer Jiří Ľubica Małgorzata Paweł Agnieszka Håkon Åsa Øystein
Sinéad Siobhán Niamh Aoife Seán Eóin Ciarán Mårten Ingrid Astrid Elif Mehmet Aylin Noah Olivia
Liam Emma Ava Sophia Isabella Mia Charlotte Amelia Harper Evelyn Lucas Mason Ethan Logan James
Benjamin Jacob Michael Elijah Daniel Henry Jackson Sebastian Aiden Matthew Samuel David Joseph
Carter Owen Wyatt John Jack Luke Jayden Dylan Grace Chloe Victoria Riley Aria Lily Aubrey Zoey
Hannah Layla Brooklyn Scarlett Nora Camila Aaliyah Fatima Aisha Omar Hassan Karim Leila Yasmin
Rahul Anjali Arjun Deepika Vikram Sanjay Meera Kavya Rohan Aditi Hiroshi Yuki Haruto Sakura Kenji
Aiko Min-jun Seo-yeon Ji-ho Thanh Linh Minh Duc Kwame Ama Kofi Chidi Ngozi Tunde Amara Thabo
Zanele Sipho Lerato Mateo Valentina Santiago Lucía Sofía Joaquín Camilo Renata Tomás Bruno
Gabriel Rafael Beatriz João Leonor Mariana Duarte Giulia Matteo Francesca Alessandro Chiara
Lorenzo Pieter Femke Sanne Jeroen Anouk Dmitri Olga Natalia Irina Sergei Katarzyna Vojtěch
伟|Wei 芳|Fang 秀英|Xiuying Дмитрий|Dmitriy Ольга|Olga Γιώργος|Giorgos Ελένη|Eleni 하준|Hajun
`
  .trim()
  .split(/\s+/);

export const LAST_NAMES: readonly string[] = `
Müller Ñúñez Øster O'Brien Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez
Martinez Hernández López González Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Pérez
Thompson White Harris Sánchez Clark Ramírez Lewis Robinson Walker Young Allen King Wright Scott
Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter
Klein Wolf Schröder Neumann Zimmermann Krüger Hartmann Lange Köhler Dubois Lefèvre Moreau Girard
Bonnet Rousseau Fontaine Chevalier Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci
Marino Greco Bruno Gallo Conti Silva Santos Oliveira Souza Pereira Costa Rodrigues Almeida
Gonçalves Carvalho Jensen Nielsen Hansen Pedersen Andersen Larsen Sørensen Rasmussen Johansson
Karlsson Nilsson Eriksson Lindqvist Åberg Ødegaard Kowalski Wiśniewski Wójcik Kamiński Lewandowski
Zieliński Szymański Dvořáková Novák Svoboda Horváth Kovács Tóth Szabó Nagy Yılmaz Kaya Demir Şahin
Çelik Öztürk Papadopoulos Georgiou Nakamura Tanaka Watanabe Yamamoto Kobayashi Kim Park Choi
Jung Kang Cho Patel Sharma Singh Kumar Gupta Reddy Iyer Chatterjee Mensah Okafor Adeyemi Nkosi
Dlamini Mahlangu Haddad Khalil Mansour Nasser Abdullah Cohen Levi Friedman O'Connor O'Neill
MacDonald McCarthy Fitzgerald D'Angelo DeLuca van_der_Berg de_Vries Van_Dijk Bakker Visser
Jansen Smit Meijer Mulder Nguyễn Trần Lê Phạm Hoàng Ivanova Petrov Smirnov Volkova Sokolov
李|Li 王|Wang 张|Zhang 陈|Chen 刘|Liu 佐藤|Sato 鈴木|Suzuki 高橋|Takahashi Иванов|Ivanov
Петрова|Petrova Παπαδάκης|Papadakis 김|Kim 이|Lee
`
  .trim()
  .split(/\s+/)
  // Multi-word names are written with `_` in the list above.
  .map((name) => name.replaceAll('_', ' '));

/** Departments of a contact center: the stem of queue and inbox names. */
export const DEPARTMENTS: readonly string[] = [
  'Billing',
  'Technical Support',
  'Sales',
  'Customer Care',
  'Returns',
  'Claims',
  'Onboarding',
  'Retention',
  'Collections',
  'Escalations',
  'Appointments',
  'Reservations',
  'Shipping',
  'Warranty',
  'Accounts Payable',
  'Fraud',
  'Help Desk',
  'Loyalty',
  'Renewals',
  'Premium Support',
  'Order Status',
  'Payments',
  'Member Services',
  'Patient Services',
  'Enrollment',
  'Dispatch',
  'Field Service',
  'Partner Support',
  'Product Questions',
  'Installations',
  'Cancellations',
  'Refunds',
];

/** What tells two queues of one department apart. */
export const QUALIFIERS: readonly string[] = [
  'Tier 1',
  'Tier 2',
  'Tier 3',
  'Inbound',
  'Outbound',
  'Spanish',
  'French',
  'German',
  'Portuguese',
  'Español',
  'Français',
  'VIP',
  'After Hours',
  'Weekend',
  'Overflow',
  'Callbacks',
  'Priority',
  'New Customers',
  'Business',
  'Consumer',
  'Enterprise',
  'SMB',
  'Gold',
  'Platinum',
];

export const REGIONS: readonly string[] = ['EMEA', 'APAC', 'North America', 'LATAM', 'UK & Ireland', 'DACH', 'Nordics', 'Benelux'];

/** What a messaging queue is called after its department. */
export const MESSAGING_SUFFIXES: readonly string[] = ['Chat', 'SMS', 'WhatsApp', 'Web Chat', 'Messenger'];

/** Inboxes that belong to no one department. */
export const SHARED_INBOXES: readonly string[] = [
  'After-hours voicemail',
  'General voicemail',
  'VIP callbacks',
  'Executive line voicemail',
  'Main line voicemail',
  'Holiday voicemail',
  'Emergency line voicemail',
];

/** Splits a `display|romanized` word into both parts (a plain word romanizes as itself). */
export function splitName(word: string): { display: string; ascii: string } {
  const bar = word.indexOf('|');
  return bar < 0 ? { display: word, ascii: word } : { display: word.slice(0, bar), ascii: word.slice(bar + 1) };
}

// Letters that Unicode normalization does not decompose into a base letter plus accents.
const FOLD: Readonly<Record<string, string>> = {
  ø: 'o',
  Ø: 'o',
  ł: 'l',
  Ł: 'l',
  ß: 'ss',
  æ: 'ae',
  Æ: 'ae',
  œ: 'oe',
  Œ: 'oe',
  đ: 'd',
  Đ: 'd',
  ı: 'i',
  þ: 'th',
  ð: 'd',
};

/** Lower-case ASCII for an email: accents dropped, special letters folded, the rest removed. */
export function asciiFold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[øØłŁßæÆœŒđĐıþð]/g, (ch) => FOLD[ch] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}
