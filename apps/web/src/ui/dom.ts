type Attributes = Record<string, string>;
type Child = Node | string;

/** Creates an element with attributes (`class`, `data-*`, `aria-*`, …) and children. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A titled section of the page. */
export function section(title: string, testId: string, ...children: Child[]): HTMLElement {
  return element('section', { class: 'panel', 'data-testid': testId }, element('h2', {}, title), ...children);
}
