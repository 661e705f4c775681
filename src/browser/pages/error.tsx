import { Layout } from "../../ui/card-layout";

export function ErrorPage(props: { title: string; description: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="alert" role="alert">
        {props.description}
      </p>
      <p class="fine">You can close this window and return to the application you came from.</p>
    </Layout>
  );
}
