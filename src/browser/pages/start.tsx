import { PATHS } from "../../paths";
import { Layout } from "../../ui/card-layout";

/** GET / in a deployment: what this host is, and where a client starts (discovery). */
export function StartPage(props: { issuer: string }) {
  const discovery = `${props.issuer}/.well-known/openid-configuration`;
  return (
    <Layout title="Edge Token Service">
      <h1>An OAuth 2.0 and OpenID Connect provider</h1>
      <p class="lead">
        Applications sign people in here. There is nothing to do on this page: an application starts
        from the discovery document.
      </p>
      <ul class="links">
        <li>
          <a href={discovery}>{discovery}</a>
        </li>
        <li>
          <a href={`${props.issuer}${PATHS.jwks}`}>{`${props.issuer}${PATHS.jwks}`}</a>
        </li>
      </ul>
    </Layout>
  );
}
