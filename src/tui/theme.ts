/**
 * How the TUI may draw: colours (off with NO_COLOR, or on a dumb terminal) and Unicode block
 * characters (off on a dumb terminal: bars and sparklines fall back to ASCII). Decided once by the
 * command from the environment and passed down as a prop.
 */
export interface Theme {
  color: boolean;
  unicode: boolean;
}

export const DEFAULT_THEME: Theme = { color: true, unicode: true };

/** The theme an environment asks for: NO_COLOR (any non-empty value) and TERM=dumb turn colour off. */
export function themeFromEnv(env: Record<string, string | undefined>): Theme {
  const dumb = env.TERM === 'dumb';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return { color: !noColor && !dumb, unicode: !dumb };
}

/** A colour name for Ink's `color` prop, or undefined when the theme has no colours. */
export function tint(theme: Theme, color: string): string | undefined {
  return theme.color ? color : undefined;
}
